package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dockyard/dockyard/host"
	"github.com/dockyard/dockyard/internal/artifactbuild"
)

// inmemWasmBuild is plugins/inmem built to wasm, once per test binary.
var inmemWasmBuild struct {
	once sync.Once
	path string
	err  error
}

// inmemWasm copies plugins/inmem, built as a WebAssembly module, to dir/name and returns its
// path and sha256.
func inmemWasm(t *testing.T, dir, name string) (string, string) {
	t.Helper()
	inmemWasmBuild.once.Do(func() { inmemWasmBuild.path, inmemWasmBuild.err = artifactbuild.Build("../../plugins/inmem") })
	if inmemWasmBuild.err != nil {
		t.Fatalf("build plugins/inmem: %v", inmemWasmBuild.err)
	}
	return copyArtifact(t, inmemWasmBuild.path, filepath.Join(dir, name), 0o644)
}

// copyArtifact copies the file src to dst with mode and returns dst and its sha256.
func copyArtifact(t *testing.T, src, dst string, mode os.FileMode) (string, string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return dst, hex.EncodeToString(sum[:])
}

// files lists the names in dir, hidden ones included.
func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// readFile returns the content of path.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantStderr fails t unless r's stderr says every one of want.
func wantStderr(t *testing.T, r result, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
		}
	}
}

// TestManifestWriteWasm writes the manifest of a wasm module, and conform, the loader and
// verify accept it.
func TestManifestWriteWasm(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	art, sum := inmemWasm(t, dir, "inmem.wasm")
	r := mustRun(t, exitOK, "", "manifest", "write", "--json", "--name", "kv-written", art)
	var out manifestWriteJSON
	decodeJSON(t, r.stdout, &out)
	path := filepath.Join(dir, "kv-written.json")
	want := manifestWriteJSON{Manifest: path, Name: "kv-written", Transport: "wasm", Artifact: "inmem.wasm", SHA256: sum,
		ABI: abiVersion(), Driver: "inmem", DriverVersion: out.DriverVersion}
	if !reflect.DeepEqual(out, want) || out.DriverVersion == "" {
		t.Errorf("manifest write --json:\n got %+v\nwant %+v", out, want)
	}
	if r.stderr != "" {
		t.Errorf("stderr: %s", r.stderr)
	}
	wantFile := `{
  "name": "kv-written",
  "transport": "wasm",
  "artifact": "inmem.wasm",
  "sha256": "` + sum + `",
  "abi": "` + abiVersion() + `"
}
`
	if got := readFile(t, path); got != wantFile {
		t.Errorf("the manifest written:\n%s\nwant:\n%s", got, wantFile)
	}
	if got := files(t, dir); strings.Join(got, " ") != "inmem.wasm kv-written.json" {
		t.Errorf("the directory holds %q, want the artifact and its manifest only", got)
	}
	if fi, err := os.Stat(path); err != nil || runtime.GOOS != "windows" && fi.Mode().Perm() != 0o644 {
		t.Errorf("the manifest's mode: %v, %v; want 0644", fi.Mode(), err)
	}

	r = mustRun(t, exitOK, "", "conform", "--run", "^(Ping|UpdateCommits|ScanOfManyPages)$", path)
	if !strings.Contains(r.stdout, "conform kv-written (wasm,") || !strings.Contains(r.stdout, "3 passed, 0 failed") {
		t.Errorf("conform of the manifest written:\n%s", r.stdout)
	}
	r = mustRun(t, exitOK, "", "drivers", "--json", "--drivers", dir)
	var drivers driversJSON
	decodeJSON(t, r.stdout, &drivers)
	found := false
	for _, d := range drivers.Drivers {
		found = found || d.Name == "kv-written" && d.Transport == transportWasm && d.SHA256 == sum && d.Caps != nil
	}
	if !found || len(drivers.LoadErrors) != 0 {
		t.Errorf("drivers --drivers %s does not load the manifest written: %+v", dir, drivers)
	}
	r = mustRun(t, exitOK, "", "manifest", "verify", dir)
	if !strings.HasPrefix(r.stdout, "OK   "+path+": driver kv-written, transport wasm, ABI "+abiVersion()) || !strings.HasSuffix(r.stdout, "1 ok, 0 bad\n") {
		t.Errorf("manifest verify of the manifest written:\n%s", r.stdout)
	}
}

// TestManifestWriteOutput: the default name and place, -o as a file or a directory, an
// existing manifest refused without --force, --options.
func TestManifestWriteOutput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	art, sum := inmemWasm(t, dir, "inmem.wasm")

	// Named after the file, beside it; inmem is compiled in, which is warned of.
	r := mustRun(t, exitOK, "", "manifest", "write", art)
	path := filepath.Join(dir, "inmem.json")
	if !strings.HasPrefix(r.stdout, "wrote "+path+": driver inmem, transport wasm, ABI "+abiVersion()+", artifact inmem.wasm, sha256 "+sum+"\n") ||
		!strings.Contains(r.stdout, `the artifact's handshake: ABI `+abiVersion()+`, driver "inmem"`) {
		t.Errorf("manifest write printed:\n%s", r.stdout)
	}
	wantStderr(t, r, "compiled into dockyard", "name=inmem")
	if m, err := host.ReadManifest(path); err != nil || m.Name != "inmem" || m.ArtifactPath() != art {
		t.Errorf("ReadManifest(%s) = %+v, %v", path, m, err)
	}

	// Once there, it is replaced only with --force.
	before := readFile(t, path)
	r = mustRun(t, exitFailed, "", "manifest", "write", "--options", `{"x": 1}`, art)
	wantStderr(t, r, path+" exists", "--force", "manifest update")
	if readFile(t, path) != before {
		t.Error("an existing manifest was replaced without --force")
	}
	mustRun(t, exitOK, "", "manifest", "write", "--force", "--options", ` {"x": [1, 2]} `, art)
	var options bytes.Buffer
	if m, err := host.ReadManifest(path); err != nil || json.Compact(&options, m.Options) != nil || options.String() != `{"x":[1,2]}` {
		t.Errorf("--options: the manifest reads %+v, %v:\n%s", m, err, readFile(t, path))
	}

	// -o a directory: NAME.json in it, the artifact's path relative to it.
	other := filepath.Join(t.TempDir(), "drivers")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	mustRun(t, exitOK, "", "manifest", "write", "--name", "elsewhere", "-o", other, art)
	m, err := host.ReadManifest(filepath.Join(other, "elsewhere.json"))
	if err != nil || m.ArtifactPath() != art || filepath.IsAbs(m.Artifact) || !strings.HasPrefix(m.Artifact, "../") {
		t.Errorf("-o DIR: the manifest reads %+v, %v", m, err)
	}
	// -o a file.
	file := filepath.Join(other, "named.json")
	mustRun(t, exitOK, "", "manifest", "write", "--name", "named", "--output", file, art)
	mustRun(t, exitOK, "", "conform", "--run", "^Ping$", file)
	if got := files(t, other); strings.Join(got, " ") != "elsewhere.json named.json" {
		t.Errorf("-o left %q", got)
	}
}

// TestManifestWriteRefuses: what is not a driver, and command lines that are wrong, each a
// clear error, and no manifest written.
func TestManifestWriteRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	art, _ := inmemWasm(t, dir, "inmem.wasm")
	code, err := os.ReadFile(art)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	notes := write("notes.txt", []byte("hello"), 0o644)
	trunc := write("trunc.wasm", code[:len(code)/3], 0o644)
	magic := write("magic.wasm", []byte("\x00asm"), 0o644)
	for _, c := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"missing artifact", []string{filepath.Join(dir, "nosuch.wasm")}, exitFailed, []string{"nosuch.wasm", "no such file"}},
		{"neither wasm nor executable", []string{notes}, exitFailed, []string{"notes.txt", "neither a WebAssembly module", "nor an executable"}},
		{"truncated wasm", []string{trunc}, exitFailed, []string{"trunc.wasm", "compile module"}},
		{"the magic alone", []string{magic}, exitFailed, []string{"magic.wasm", "compile module"}},
		{"a directory", []string{dir}, exitFailed, []string{"not a driver artifact", "not a regular file"}},
		{"bad --name", []string{"--name", "my driver", art}, exitUsage, []string{`--name "my driver"`, "not a driver name"}},
		{"--name with a colon", []string{"--name", "a:b", art}, exitUsage, []string{`--name "a:b"`}},
		{"--options not JSON", []string{"--options", "{", art}, exitUsage, []string{"--options", "not JSON"}},
		{"--options not an object", []string{"--options", "[1]", art}, exitUsage, []string{"--options", "want a JSON object"}},
		{"--options two values", []string{"--options", "{} {}", art}, exitUsage, []string{"--options", "more than one JSON value"}},
		{"-o not *.json", []string{"-o", filepath.Join(dir, "kv.txt"), art}, exitUsage, []string{"kv.txt", "would be ignored"}},
		{"-o hidden", []string{"-o", filepath.Join(dir, ".kv.json"), art}, exitUsage, []string{".kv.json", "would be ignored"}},
		{"bad --dsn-form", []string{"--dsn-form", "url", art}, exitUsage, []string{`--dsn-form "url"`}},
		{"--dsn-form server without --dsn", []string{"--dsn-form", "server", art}, exitUsage, []string{"--dsn-form server", "--dsn"}},
		{"--dsn-form file for wasm", []string{"--dsn-form", "file", art}, exitUsage, []string{"--dsn-form file", "not a DSN form of the wasm transport"}},
		{"no artifact", nil, exitUsage, []string{"accepts 1 arg(s)"}},
		{"two artifacts", []string{art, art}, exitUsage, []string{"accepts 1 arg(s)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := mustRun(t, c.code, "", append([]string{"manifest", "write"}, c.args...)...)
			wantStderr(t, r, c.want...)
			if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
				t.Errorf("a panic:\n%s", r.stderr)
			}
			if c.code == exitUsage {
				wantStderr(t, r, "Run 'dockyard manifest write --help' for usage.")
			}
		})
	}
	for _, f := range files(t, dir) {
		if strings.HasSuffix(f, ".json") || strings.Contains(f, ".tmp") {
			t.Errorf("a refused write left %s", f)
		}
	}
}

// manifestText is a hand-written manifest, laid out as a person would, with a sandbox and
// options that hold a "sha256" of their own.
func manifestText(name, artifact, sum string) string {
	return `{
	"name":   "` + name + `",
	"transport": "wasm",   "artifact": "` + artifact + `",
	"sha256" :  "` + sum + `",
	"abi": "1.0",
	"sandbox": {"call_timeout": "10s", "max_scan_entries": 1000},
	"options": {"sha256": "not this one", "n": [1, 2.50]}
}
`
}

// TestManifestUpdate rewrites the sha256 after a rebuild and nothing else.
func TestManifestUpdate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, sum := inmemWasm(t, dir, "kv.wasm")
	old := strings.Repeat("AB", 32)
	path := filepath.Join(dir, "kv.json")
	text := manifestText("kv-update", "kv.wasm", old)
	if err := os.WriteFile(path, []byte(text), 0o640); err != nil {
		t.Fatal(err)
	}
	mustRun(t, exitFailed, "", "conform", "--run", "^Ping$", path) // the sum is wrong

	r := mustRun(t, exitOK, "", "manifest", "update", path)
	if want := path + ": sha256 " + strings.ToLower(old) + " -> " + sum + "\n"; r.stdout != want {
		t.Errorf("manifest update printed %q, want %q", r.stdout, want)
	}
	if got, want := readFile(t, path), strings.Replace(text, old, sum, 1); got != want {
		t.Errorf("the manifest updated:\n%s\nwant, byte for byte:\n%s", got, want)
	}
	if fi, err := os.Stat(path); err != nil || runtime.GOOS != "windows" && fi.Mode().Perm() != 0o640 {
		t.Errorf("the manifest's mode after update: %v, %v; want 0640 as before", fi.Mode(), err)
	}
	if got := files(t, dir); strings.Join(got, " ") != "kv.json kv.wasm" {
		t.Errorf("update left %q", got)
	}
	mustRun(t, exitOK, "", "conform", "--run", "^Ping$", path)

	// Again: nothing to do.
	r = mustRun(t, exitOK, "", "manifest", "update", "--json", path)
	var out struct {
		Manifests []manifestUpdateJSON `json:"manifests"`
	}
	decodeJSON(t, r.stdout, &out)
	if len(out.Manifests) != 1 || out.Manifests[0] != (manifestUpdateJSON{Manifest: path, OldSHA256: sum, NewSHA256: sum}) {
		t.Errorf("update --json of an up-to-date manifest: %+v", out)
	}
	r = mustRun(t, exitOK, "", "manifest", "update", path)
	if r.stdout != path+": sha256 unchanged, "+sum+"\n" {
		t.Errorf("update of an up-to-date manifest printed %q", r.stdout)
	}
}

// TestManifestUpdateRefuses: a manifest that is wrong otherwise is not updated, with an error
// naming what is wrong; the good ones given with it are.
func TestManifestUpdateRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, sum := inmemWasm(t, dir, "kv.wasm")
	zero := strings.Repeat("0", 64)
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", manifestText("good", "kv.wasm", zero))
	unknown := write("unknown.json", strings.Replace(manifestText("unknown", "kv.wasm", zero), `"abi"`, `"sha265": "x", "abi"`, 1))
	missing := write("missing.json", manifestText("missing", "gone.wasm", zero))
	notWasm := write("notwasm.json", manifestText("notwasm", "unknown.json", zero))
	twice := write("twice.json", strings.Replace(manifestText("twice", "kv.wasm", zero), `"abi"`, `"sha256": "`+zero+`", "abi"`, 1))
	for _, c := range []struct {
		path string
		want []string
	}{
		{unknown, []string{"unknown.json", `field "sha265": unknown field`}},
		{missing, []string{"missing.json", `field "artifact"`, "gone.wasm", "no such file"}},
		{notWasm, []string{"notwasm.json", `field "artifact"`, "not a WebAssembly module"}},
		{twice, []string{"twice.json", `field "sha256"`, "twice"}},
		{filepath.Join(dir, "nosuch.json"), []string{"nosuch.json", "no such file"}},
	} {
		before, _ := os.ReadFile(c.path)
		r := mustRun(t, exitFailed, "", "manifest", "update", c.path, good)
		wantStderr(t, r, c.want...)
		wantStderr(t, r, "1 of 2 manifests not updated")
		if after, _ := os.ReadFile(c.path); !bytes.Equal(before, after) {
			t.Errorf("%s was changed:\n%s", c.path, after)
		}
	}
	if m, err := host.ReadManifest(good); err != nil || m.SHA256 != sum {
		t.Errorf("the good manifest given with bad ones: %+v, %v; want it updated", m, err)
	}
	r := mustRun(t, exitUsage, "", "manifest", "update")
	wantStderr(t, r, "requires at least 1 arg(s)")
}

// TestManifestVerify checks a drivers directory as the loader would: every bad manifest named
// with what is wrong, hidden and other files ignored.
func TestManifestVerify(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, sum := inmemWasm(t, dir, "kv.wasm")
	base := map[string]any{"name": "v-good", "transport": "wasm", "artifact": "kv.wasm", "sha256": sum, "abi": abiVersion()}
	write := func(dir, name string, change map[string]any) {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range change {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(dir, "a-good.json", nil)
	write(dir, "b-sum.json", map[string]any{"name": "v-sum", "sha256": strings.Repeat("0", 64)})
	write(dir, "c-unknown.json", map[string]any{"name": "v-unknown", "Options": map[string]any{}})
	write(dir, "d-dup.json", nil)
	write(dir, "e-options.json", map[string]any{"name": "v-options", "options": []int{1}})
	write(dir, "f-abi.json", map[string]any{"name": "v-abi", "abi": "2.0"})
	write(dir, "g-transport.json", map[string]any{"name": "v-transport", "transport": "plugin"})
	write(dir, "h-missing.json", map[string]any{"name": "v-missing", "artifact": nil})
	write(dir, ".hidden.json", map[string]any{"name": "v-hidden", "sha256": "x"})
	write(dir, "notes.txt", map[string]any{"name": "v-notes", "sha256": "x"})
	if err := os.WriteFile(filepath.Join(dir, "i-trunc.json"), []byte(`{"name": "v-trunc", `), 0o644); err != nil {
		t.Fatal(err)
	}
	wantBad := map[string]string{ // manifest -> field at fault, and what the error says
		"b-sum.json":       "sha256|the manifest expects 0000",
		"c-unknown.json":   `Options|did you mean "options"`,
		"d-dup.json":       "name|declared by " + filepath.Join(dir, "a-good.json"),
		"e-options.json":   "options|must be a JSON object",
		"f-abi.json":       "abi|speaks ABI 2.0",
		"g-transport.json": "artifact|not executable",
		"h-missing.json":   "artifact|required field is missing",
		"i-trunc.json":     "|malformed JSON",
	}

	r := mustRun(t, exitFailed, "", "manifest", "verify", dir)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 10 || !strings.HasPrefix(lines[0], "OK   "+filepath.Join(dir, "a-good.json")+": driver v-good") || lines[9] != "1 ok, 8 bad" {
		t.Errorf("manifest verify printed:\n%s", r.stdout)
	}
	for name, want := range wantBad {
		field, says, _ := strings.Cut(want, "|")
		prefix := "BAD  " + filepath.Join(dir, name) + ": "
		if field != "" {
			prefix += `field "` + field + `": `
		}
		if !strings.Contains(r.stdout, "\n"+prefix) || !strings.Contains(r.stdout, says) {
			t.Errorf("verify does not say %s is bad (%q, %q):\n%s", name, prefix, says, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "hidden") || strings.Contains(r.stdout, "notes") {
		t.Errorf("verify read files the loader ignores:\n%s", r.stdout)
	}
	wantStderr(t, r, "8 of 9 manifests bad")

	r = mustRun(t, exitFailed, "", "manifest", "verify", "--json", dir)
	var out verifyDirJSON
	decodeJSON(t, r.stdout, &out)
	if out.Dir != dir || out.OK != 1 || out.Bad != 8 || len(out.Manifests) != 9 {
		t.Fatalf("verify --json: %+v", out)
	}
	for _, m := range out.Manifests {
		name := filepath.Base(m.Manifest)
		want, bad := wantBad[name]
		field, says, _ := strings.Cut(want, "|")
		switch {
		case m.OK == bad, bad && (m.Field != field || !strings.Contains(m.Error, says)):
			t.Errorf("verify --json, %s: %+v; want field %q and an error saying %q", name, m, field, says)
		case !bad && (m.Name != "v-good" || m.SHA256 != sum || m.ABI != abiVersion() || m.Transport != "wasm" || m.Artifact != filepath.Join(dir, "kv.wasm")):
			t.Errorf("verify --json, %s: %+v", name, m)
		}
	}

	// A good directory passes; a missing one, or a file, is an error.
	good := t.TempDir()
	inmemWasm(t, good, "kv.wasm")
	write(good, "kv.json", nil)
	r = mustRun(t, exitOK, "", "manifest", "verify", good)
	if !strings.HasSuffix(r.stdout, "1 ok, 0 bad\n") {
		t.Errorf("verify of a good directory:\n%s", r.stdout)
	}
	r = mustRun(t, exitOK, "", "manifest", "verify", t.TempDir())
	if !strings.HasPrefix(r.stdout, "no manifests in ") {
		t.Errorf("verify of an empty directory:\n%s", r.stdout)
	}
	r = mustRun(t, exitFailed, "", "manifest", "verify", filepath.Join(good, "nosuch"))
	wantStderr(t, r, "nosuch", "no such file")
	r = mustRun(t, exitFailed, "", "manifest", "verify", filepath.Join(good, "kv.json"))
	wantStderr(t, r, "not a directory")
	mustRun(t, exitUsage, "", "manifest", "verify")
}

// TestManifestVerifyWarnings: a compiled-in name, and files others may write, are warned of as
// the loader warns, and pass.
func TestManifestVerifyWarnings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	art, _ := inmemWasm(t, dir, "inmem.wasm")
	mustRun(t, exitOK, "", "manifest", "write", art)
	want := []string{`warning: driver "inmem" is also compiled into dockyard`}
	if runtime.GOOS != "windows" { // Windows has no permission bits to warn of
		if err := os.Chmod(art, 0o666); err != nil {
			t.Fatal(err)
		}
		want = append(want, "warning: "+art+" is world-writable")
	}
	r := mustRun(t, exitOK, "", "manifest", "verify", dir)
	for _, want := range want {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("verify does not say %q:\n%s", want, r.stdout)
		}
	}
}

// TestManifestCommandUsage: manifest alone, or with an unknown command, is a usage error; every
// command has help with its exit codes.
func TestManifestCommandUsage(t *testing.T) {
	r := mustRun(t, exitUsage, "", "manifest")
	wantStderr(t, r, "no manifest command given", "Usage:")
	r = mustRun(t, exitUsage, "", "manifest", "frobnicate")
	wantStderr(t, r, `unknown command "frobnicate"`)
	for _, cmd := range []string{"write", "update", "verify", ""} {
		args := []string{"manifest", cmd, "--help"}
		if cmd == "" {
			args = []string{"manifest", "--help"}
		}
		r := mustRun(t, exitOK, "", args...)
		if !strings.Contains(r.stdout, "Usage:") || !strings.Contains(r.stdout, "Exit codes") || !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("dockyard %q: help without usage, exit codes or examples:\n%s", args, r.stdout)
		}
	}
	r = mustRun(t, exitOK, "", "--help")
	if !strings.Contains(r.stdout, "manifest ") {
		t.Errorf("dockyard --help does not list manifest:\n%s", r.stdout)
	}
}

// TestConformCallTimeout: --call-timeout is the transport's deadline for the artifact checked,
// whatever its manifest says, and bad values are usage errors.
// callTimeoutRuns numbers TestConformCallTimeout's runs (go test -count).
var callTimeoutRuns atomic.Int64

func TestConformCallTimeout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	art, sum := inmemWasm(t, dir, "kv.wasm")
	// A name of its own per run: the CLI runs in this process, and a loaded driver stays
	// registered in package store for the rest of it.
	name := fmt.Sprintf("kv-timeout-%d", callTimeoutRuns.Add(1))
	manifest := filepath.Join(dir, "kv-timeout.json")
	if err := os.WriteFile(manifest, []byte(`{"name": "`+name+`", "transport": "wasm", "artifact": "kv.wasm", "sha256": "`+sum+
		`", "abi": "`+abiVersion()+`", "sandbox": {"call_timeout": "10s"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// A generous deadline passes.
	mustRun(t, exitOK, "", "conform", "--run", "^ScanOfManyPages$", "--call-timeout", "45s", art)
	for _, target := range [][]string{{art}, {manifest}, {"--drivers", dir, name}} {
		// The default passes.
		mustRun(t, exitOK, "", append([]string{"conform", "--run", "^ScanOfManyPages$"}, target...)...)
		// A deadline no call can meet fails, saying so, whatever the manifest says.
		// The deadline may already fail the probe that opens the first store (stderr), or only a
		// call of the case (its log, on stdout): either way the run fails naming the flag.
		r := mustRun(t, exitFailed, "", append([]string{"conform", "--run", "^ScanOfManyPages$", "--call-timeout", "1ns"}, target...)...)
		wantStderr(t, r, "--call-timeout 1ns")
		if !strings.Contains(r.stdout+r.stderr, "1ns deadline") && !strings.Contains(r.stdout+r.stderr, "call timeout of 1ns") {
			t.Errorf("conform --call-timeout 1ns %v: no word of the 1ns deadline:\nstdout:\n%s\nstderr:\n%s", target, r.stdout, r.stderr)
		}
	}

	trusted := filepath.Join(dir, "trusted.json")
	if err := os.WriteFile(trusted, []byte(`{"name": "kv-trusted", "transport": "wasm", "artifact": "kv.wasm", "sha256": "`+sum+
		`", "abi": "`+abiVersion()+`", "sandbox": {"trusted": true}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		value, driver, want string
	}{
		{"0", art, "--call-timeout 0s: want a positive duration"},
		{"-1s", art, "--call-timeout -1s: want a positive duration"},
		{"2h", art, "at most 1h0m0s"},
		{"soon", art, `invalid argument "soon" for "--call-timeout"`},
		{"1s", "inmem", "inmem runs in process"},
		{"1s", trusted, "is trusted"},
	} {
		r := mustRun(t, exitUsage, "", "conform", "--call-timeout", c.value, "--run", "^Ping$", c.driver)
		wantStderr(t, r, c.want, "Run 'dockyard conform --help' for usage.")
	}
}
