package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/dockyard/dockyard/drivers/inmem" // registers "inmem", a compiled-in name
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/store"
)

// TestManifestErrors writes one bad manifest per case and loads it: the error must be a
// *ManifestError naming the file and the field, match ErrBadManifest (and the case's sentinel),
// register nothing, and never panic. Cases that ReadManifest can see are checked through it
// too.
func TestManifestErrors(t *testing.T) {
	sum := sha256Hex(emptyModule)
	const wrongSum = "0000000000000000000000000000000000000000000000000000000000000000"
	type tcase struct {
		name     string
		manifest func(name string) string // the manifest's text, for driver name
		field    string                   // the field the error must name ("" for none)
		want     string                   // a substring of the message
		is       error                    // a sentinel it must also match
		loadOnly bool                     // found by LoadDir only (hash, registry)
		setup    func(t *testing.T, dir string)
	}
	good := func(name string) fields { return goodFields(name, "m.wasm", sum) }
	with := func(k, v string) func(string) string {
		return func(name string) string { return good(name).set(k, v).String() }
	}
	without := func(k string) func(string) string {
		return func(name string) string { return good(name).del(k).String() }
	}
	plugin := func(sandbox string) func(string) string {
		return func(name string) string {
			return good(name).set("transport", q("plugin")).set("artifact", q("plugin.sh")).
				set("sha256", q(sha256Hex([]byte(pluginScript)))).set("sandbox", sandbox).String()
		}
	}
	interp := func(v string) func(string) string { // a plugin whose artifact is a script
		return func(name string) string {
			return fields(good(name)).set("transport", q("plugin")).
				set("artifact", q("plugin.sh")).set("sha256", q(sha256Hex([]byte(pluginScript)))).set("interpreter", v).String()
		}
	}
	sandbox := func(v string) func(string) string { return with("sandbox", v) }
	raw := func(s string) func(string) string { return func(string) string { return s } }

	cases := []tcase{
		{name: "unknown field", manifest: with("nmae", q("x")), field: "nmae", want: "unknown field"},
		{name: "unknown field case", manifest: func(n string) string { return good(n).del("name").set("Name", q(n)).String() },
			field: "Name", want: `did you mean "name"`},
		{name: "unknown sandbox field", manifest: sandbox(`{"memroy_limit": 1024}`), field: "sandbox.memroy_limit", want: "unknown field"},
		{name: "repeated field", manifest: func(n string) string { return good(n).String()[:2] + `"abi": "1.0", ` + good(n).String()[2:] },
			field: "abi", want: "more than once"},
		{name: "missing name", manifest: without("name"), field: "name", want: "missing"},
		{name: "missing transport", manifest: without("transport"), field: "transport", want: "missing"},
		{name: "missing artifact field", manifest: without("artifact"), field: "artifact", want: "missing"},
		{name: "missing sha256", manifest: without("sha256"), field: "sha256", want: "missing"},
		{name: "missing abi", manifest: without("abi"), field: "abi", want: "missing"},
		{name: "empty name", manifest: with("name", q("")), field: "name", want: "empty"},
		{name: "bad name", manifest: with("name", q("my:driver")), field: "name", want: "not a driver name"},
		{name: "null name", manifest: with("name", "null"), field: "name", want: "must be a string, not null"},
		{name: "number name", manifest: with("name", "7"), field: "name", want: "must be a string, not a number"},
		{name: "missing artifact", manifest: with("artifact", q("nope.wasm")), field: "artifact", want: "nope.wasm", is: fs.ErrNotExist},
		{name: "artifact directory", manifest: with("artifact", q("sub")), field: "artifact", want: "not a regular file",
			setup: func(t *testing.T, dir string) { os.Mkdir(filepath.Join(dir, "sub"), 0o755) }},
		{name: "artifact not wasm", manifest: with("artifact", q("plugin.sh")), field: "artifact", want: "not a WebAssembly module"},
		{name: "plugin not executable", manifest: plugin(`{}`), field: "artifact", want: "not executable",
			setup: func(t *testing.T, dir string) { os.Chmod(filepath.Join(dir, "plugin.sh"), 0o644) }},
		{name: "interpreter relative", manifest: interp(q("node")), field: "interpreter", want: "not an absolute path"},
		{name: "interpreter empty", manifest: interp(q("")), field: "interpreter", want: "must not be empty"},
		{name: "interpreter not a string", manifest: interp(`["/usr/bin/node"]`), field: "interpreter", want: "must be a string"},
		{name: "interpreter missing", manifest: interp(q("/nonexistent/node")), field: "interpreter", want: "/nonexistent/node", is: fs.ErrNotExist},
		{name: "interpreter not executable", manifest: interp(q("/etc/passwd")), field: "interpreter", want: "not executable"},
		{name: "interpreter directory", manifest: interp(q("/")), field: "interpreter", want: "not a regular file"},
		{name: "interpreter in wasm", manifest: with("interpreter", q("/bin/sh")), field: "interpreter", want: "plugin transport only"},
		{name: "wrong hash", manifest: with("sha256", q(wrongSum)), field: "sha256", is: ErrChecksumMismatch, loadOnly: true,
			want: "has sha256 " + sum + ", the manifest expects " + wrongSum},
		{name: "short hash", manifest: with("sha256", q("abc123")), field: "sha256", want: "64 hex digits"},
		{name: "bad hex", manifest: with("sha256", q(strings.Repeat("z", 64))), field: "sha256", want: "not hex"},
		{name: "unknown transport", manifest: with("transport", q("grpc")), field: "transport", want: `unknown transport "grpc"`},
		{name: "wrong abi major", manifest: with("abi", q("2.0")), field: "abi", is: abi.ErrIncompatible,
			want: fmt.Sprintf("the artifact speaks ABI 2.0, this host speaks ABI %d.%d", abi.Major, abi.Minor)},
		{name: "bad abi", manifest: with("abi", q("1")), field: "abi", want: `want "MAJOR.MINOR"`},
		{name: "abi number", manifest: with("abi", "1.0"), field: "abi", want: "must be a string"},
		{name: "malformed json", manifest: raw(`{"name": "x",`), want: "malformed JSON"},
		{name: "malformed value", manifest: with("name", "tru"), field: "name", want: "malformed JSON at line 2"},
		{name: "trailing data", manifest: func(n string) string { return good(n).String() + "{}" }, want: "trailing data"},
		{name: "trailing garbage", manifest: func(n string) string { return good(n).String() + "x" }, want: "trailing data"},
		{name: "empty file", manifest: raw(""), want: "empty"},
		{name: "array", manifest: raw(`[]`), want: "must be a JSON object, not an array"},
		{name: "compiled-in name", manifest: func(string) string { return good("inmem").String() }, field: "name",
			want: `"inmem" is already registered`, is: store.ErrDuplicateDriver, loadOnly: true},
		{name: "plugin memory_limit", manifest: plugin(`{"memory_limit": "64MiB"}`), field: "sandbox.memory_limit", want: "wasm transport only"},
		{name: "plugin trusted false", manifest: plugin(`{"trusted": false}`), field: "sandbox.trusted", want: "wasm transport only"},
		{name: "options array", manifest: with("options", `[1, 2]`), field: "options", want: "must be a JSON object, not an array"},
		{name: "options string", manifest: with("options", `"a=b"`), field: "options", want: "must be a JSON object, not a string"},
		{name: "options null", manifest: with("options", `null`), field: "options", want: "must be a JSON object, not null"},
		{name: "sandbox not object", manifest: sandbox(`"strict"`), field: "sandbox", want: "must be a JSON object"},
		{name: "negative duration", manifest: sandbox(`{"call_timeout": "-1s"}`), field: "sandbox.call_timeout", want: "must be positive"},
		{name: "zero duration", manifest: sandbox(`{"call_timeout": "0s"}`), field: "sandbox.call_timeout", want: "must be positive"},
		{name: "duration too short", manifest: sandbox(`{"call_timeout": "1ns"}`), field: "sandbox.call_timeout", want: "between 10ms and 1h0m0s"},
		{name: "duration too long", manifest: sandbox(`{"call_timeout": "49h"}`), field: "sandbox.call_timeout", want: "between 10ms and 1h0m0s"},
		{name: "invalid duration", manifest: sandbox(`{"call_timeout": "soon"}`), field: "sandbox.call_timeout", want: "not a duration"},
		{name: "numeric duration", manifest: sandbox(`{"call_timeout": 30}`), field: "sandbox.call_timeout", want: "duration string"},
		{name: "negative memory", manifest: sandbox(`{"memory_limit": -1}`), field: "sandbox.memory_limit", want: "negative"},
		{name: "negative memory string", manifest: sandbox(`{"memory_limit": "-1MiB"}`), field: "sandbox.memory_limit", want: "negative"},
		{name: "zero memory", manifest: sandbox(`{"memory_limit": 0}`), field: "sandbox.memory_limit", want: "must be positive"},
		{name: "fractional memory", manifest: sandbox(`{"memory_limit": 1.5}`), field: "sandbox.memory_limit", want: "whole number"},
		{name: "decimal unit", manifest: sandbox(`{"memory_limit": "256MB"}`), field: "sandbox.memory_limit", want: `unknown unit "MB"`},
		{name: "memory too large", manifest: sandbox(`{"memory_limit": "5GiB"}`), field: "sandbox.memory_limit", want: "over the largest"},
		{name: "trusted with deadline", manifest: sandbox(`{"trusted": true, "call_timeout": "1s"}`), field: "sandbox.call_timeout", want: "no effect"},
		{name: "trusted not bool", manifest: sandbox(`{"trusted": "yes"}`), field: "sandbox.trusted", want: "true or false"},
		{name: "wasm connect no port", manifest: sandbox(`{"connect": ["db:5432", "db.internal"]}`), field: "sandbox.connect[1]", want: "host:port"},
		{name: "wasm connect zero port", manifest: sandbox(`{"connect": ["db:0"]}`), field: "sandbox.connect[0]", want: "not a number from 1 to 65535"},
		{name: "wasm connect not array", manifest: sandbox(`{"connect": "db:5432"}`), field: "sandbox.connect", want: "array of strings"},
		{name: "wasm env", manifest: sandbox(`{"env": ["A=b"]}`), field: "sandbox.env", want: "plugin transport only"},
		{name: "env not array", manifest: plugin(`{"env": "A=b"}`), field: "sandbox.env", want: "array of strings"},
		{name: "env bad name", manifest: plugin(`{"env": ["A=b", "1X=y"]}`), field: "sandbox.env[1]", want: "want NAME or NAME=value"},
		{name: "relative read", manifest: plugin(`{"read": ["etc/ssl"]}`), field: "sandbox.read[0]", want: "absolute path"},
		{name: "relative write", manifest: plugin(`{"write": ["/ok", "data"]}`), field: "sandbox.write[1]", want: "absolute path"},
		{name: "connect no port", manifest: plugin(`{"connect": ["db.internal"]}`), field: "sandbox.connect[0]", want: "host:port"},
		{name: "connect named port", manifest: plugin(`{"connect": ["db:postgres"]}`), field: "sandbox.connect[0]", want: "not a number"},
		{name: "plugin disk_quota", manifest: plugin(`{"disk_quota": "1GiB"}`), field: "sandbox.disk_quota", want: "wasm transport only"},
		{name: "zero disk_quota", manifest: sandbox(`{"disk_quota": 0}`), field: "sandbox.disk_quota", want: "must be positive"},
		{name: "wasm max_open_files too many", manifest: sandbox(`{"max_open_files": 70000}`), field: "sandbox.max_open_files", want: "65536"},
		{name: "short scan_timeout", manifest: sandbox(`{"scan_timeout": "1ms"}`), field: "sandbox.scan_timeout", want: "at least 1s"},
		{name: "zero max_scan_bytes", manifest: sandbox(`{"max_scan_bytes": 0}`), field: "sandbox.max_scan_bytes", want: "must be positive"},
		{name: "wasm max_memory", manifest: sandbox(`{"max_memory": "1GiB"}`), field: "sandbox.max_memory", want: "plugin transport only"},
		{name: "zero max_memory", manifest: plugin(`{"max_memory": 0}`), field: "sandbox.max_memory", want: "must be positive"},
		{name: "fractional open files", manifest: plugin(`{"max_open_files": 1.5}`), field: "sandbox.max_open_files", want: "positive whole number"},
		{name: "negative processes", manifest: plugin(`{"max_processes": -1}`), field: "sandbox.max_processes", want: "positive whole number"},
		{name: "short cpu time", manifest: plugin(`{"max_cpu_time": "10ms"}`), field: "sandbox.max_cpu_time", want: "at least 1s"},
		{name: "require not bool", manifest: plugin(`{"require_containment": 1}`), field: "sandbox.require_containment", want: "true or false"},
		{name: "unknown dsn_form", manifest: with("dsn_form", q("url")), field: "dsn_form", want: `unknown DSN form "url"`},
		{name: "dsn_form case", manifest: with("dsn_form", q("Dir")), field: "dsn_form", want: `unknown DSN form "Dir"`},
		{name: "empty dsn_form", manifest: with("dsn_form", q("")), field: "dsn_form", want: "leave the field out"},
		{name: "null dsn_form", manifest: with("dsn_form", "null"), field: "dsn_form", want: "must be a string, not null"},
		{name: "array dsn_form", manifest: with("dsn_form", `["dir"]`), field: "dsn_form", want: "must be a string, not an array"},
		{name: "wasm dsn_form file", manifest: with("dsn_form", q("file")), field: "dsn_form", want: `"file" is not a DSN form of the wasm transport`},
		{name: "plugin unknown dsn_form", manifest: func(n string) string {
			return plugin(`{}`)(n)[:2] + `"dsn_form": "database", ` + plugin(`{}`)(n)[2:]
		}, field: "dsn_form", want: `unknown DSN form "database"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "m.wasm"), emptyModule, 0o644)
			writeFile(t, filepath.Join(dir, "plugin.sh"), []byte(pluginScript), 0o755)
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			name := uniqueName("bad")
			path := filepath.Join(dir, "kv.json")
			writeFile(t, path, []byte(tc.manifest(name)), 0o644)

			check := func(what string, err error) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s: no error", what)
				}
				msg := err.Error()
				t.Logf("%s: %s", what, msg)
				var me *ManifestError
				switch {
				case !errors.As(err, &me):
					t.Errorf("%s: %T is not a *ManifestError: %v", what, err, err)
				case me.Path != path || me.Field != tc.field:
					t.Errorf("%s: ManifestError{Path: %q, Field: %q}, want {%q, %q}", what, me.Path, me.Field, path, tc.field)
				}
				if !strings.HasPrefix(msg, path+": ") {
					t.Errorf("%s: %q does not start with the manifest's path", what, msg)
				}
				if tc.field != "" && !strings.Contains(msg, `field "`+tc.field+`"`) {
					t.Errorf("%s: %q does not name field %q", what, msg, tc.field)
				}
				if !strings.Contains(msg, tc.want) {
					t.Errorf("%s: %q does not say %q", what, msg, tc.want)
				}
				if !errors.Is(err, ErrBadManifest) {
					t.Errorf("%s: %v does not match ErrBadManifest", what, err)
				}
				if tc.is != nil && !errors.Is(err, tc.is) {
					t.Errorf("%s: %v does not match %v", what, err, tc.is)
				}
			}
			if !tc.loadOnly {
				_, err := ReadManifest(path)
				check("ReadManifest", err)
			}
			loaded, err := LoadDir(context.Background(), dir, quiet)
			check("LoadDir", err)
			if len(loaded) != 0 {
				t.Errorf("LoadDir loaded %v from a bad manifest", loaded)
			}
			if slices.Contains(store.Drivers(), name) {
				t.Errorf("driver %q registered from a bad manifest", name)
			}
		})
	}
}

// pluginScript is an executable that is not a plugin.
const pluginScript = "#!/bin/sh\nexit 3\n"

// TestDuplicateNameInDirectory: two manifests of one directory declaring one name. The first
// (in file name order) loads; the second is an error naming it and the first.
func TestDuplicateNameInDirectory(t *testing.T) {
	name := uniqueName("dup")
	dir := driverDir(t, name)
	_, sum := inmemWasm(t)
	second := filepath.Join(dir, "zz-"+name+".json")
	writeFile(t, second, []byte(goodFields(name, "inmem.wasm", sum).String()), 0o644)
	loaded, err := LoadDir(context.Background(), dir, quiet)
	if len(loaded) != 1 || loaded[0].Name != name {
		t.Errorf("loaded %v, want %s only", loaded, name)
	}
	var me *ManifestError
	if !errors.As(err, &me) || me.Path != second || me.Field != "name" {
		t.Fatalf("err = %v, want a ManifestError for %s, field name", err, second)
	}
	if !errors.Is(err, store.ErrDuplicateDriver) || !strings.Contains(err.Error(), filepath.Join(dir, name+".json")) {
		t.Errorf("err = %v: want store.ErrDuplicateDriver and the first manifest named", err)
	}
}

// TestReadManifest reads a full manifest and checks every field's Go value.
func TestReadManifest(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "m.wasm"), emptyModule, 0o644)
	sum := strings.ToUpper(sha256Hex(emptyModule))
	path := filepath.Join(dir, "kv.json")
	writeFile(t, path, []byte(goodFields("kv", "./m.wasm", sum).
		set("sandbox", `{"memory_limit": "64 MiB", "disk_quota": "2GiB", "call_timeout": "1m30s"}`).
		set("options", `{"page_size": 512, "mode": "fast"}`).String()), 0o644)
	m, err := ReadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Sandbox{MemoryLimit: 64 * MiB, DiskQuota: 2 * GiB, CallTimeout: 90 * time.Second}
	if m.Name != "kv" || m.Transport != TransportWasm || m.Artifact != "./m.wasm" || m.ABI != "1.0" ||
		m.SHA256 != strings.ToLower(sum) || !reflect.DeepEqual(m.Sandbox, want) || m.Path != path {
		t.Errorf("ReadManifest = %+v", m)
	}
	if got := string(m.Options); got != `{"page_size": 512, "mode": "fast"}` {
		t.Errorf("Options = %s", got)
	}
	if got, want := m.ArtifactPath(), filepath.Join(dir, "m.wasm"); got != want {
		t.Errorf("ArtifactPath = %s, want %s", got, want)
	}

	// A Manifest marshals to a manifest that parses back to the same.
	back, b := roundTrip(t, m)
	back.Path = m.Path
	if differs(m, back) != "" || back.Name != m.Name || back.Artifact != m.Artifact {
		t.Errorf("round trip through %s: %+v, want %+v", b, back, m)
	}
	if err := json.Unmarshal([]byte(`{"name": "x"}`), back); !errors.Is(err, ErrBadManifest) {
		t.Errorf("Unmarshal of an incomplete manifest: %v, want ErrBadManifest", err)
	}
}

// roundTrip marshals m and parses the JSON back.
func roundTrip(t *testing.T, m *Manifest) (*Manifest, []byte) {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back Manifest
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("Unmarshal(%s): %v", b, err)
	}
	return &back, b
}

// TestPluginSandboxManifest: a plugin manifest's containment members parse, and marshal back.
func TestPluginSandboxManifest(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "plugin.sh"), []byte(pluginScript), 0o755)
	path := filepath.Join(dir, "p.json")
	writeFile(t, path, []byte(goodFields("p", "plugin.sh", sha256Hex([]byte(pluginScript))).
		set("transport", q("plugin")).
		set("sandbox", `{"env": ["PGPASSWORD", "MODE=fast"], "read": ["/etc/ssl"], "write": ["/var/lib/p"],
			"connect": ["db.internal:5432"], "require_containment": true,
			"max_memory": "2GiB", "max_open_files": 256, "max_processes": 64, "max_cpu_time": "1h"}`).String()), 0o644)
	m, err := ReadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Sandbox{Env: []string{"PGPASSWORD", "MODE=fast"}, Read: []string{"/etc/ssl"}, Write: []string{"/var/lib/p"},
		Connect: []string{"db.internal:5432"}, RequireContainment: true,
		MaxMemory: 2 * GiB, MaxOpenFiles: 256, MaxProcesses: 64, MaxCPUTime: time.Hour}
	if !reflect.DeepEqual(m.Sandbox, want) {
		t.Errorf("Sandbox = %+v, want %+v", m.Sandbox, want)
	}
	if back, b := roundTrip(t, m); !reflect.DeepEqual(back.Sandbox, want) {
		t.Errorf("round trip through %s: %+v, want %+v", b, back.Sandbox, want)
	}
}

// TestWasmConnectManifest: a wasm manifest may list endpoints in sandbox.connect (the network of
// the wasm binding), and they marshal back.
func TestWasmConnectManifest(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "m.wasm"), emptyModule, 0o644)
	path := filepath.Join(dir, "kv.json")
	writeFile(t, path, []byte(goodFields("kv", "m.wasm", sha256Hex(emptyModule)).
		set("sandbox", `{"connect": ["db.internal:5432", "[::1]:6379"]}`).String()), 0o644)
	m, err := ReadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Sandbox{Connect: []string{"db.internal:5432", "[::1]:6379"}}
	if !reflect.DeepEqual(m.Sandbox, want) {
		t.Errorf("Sandbox = %+v, want %+v", m.Sandbox, want)
	}
	if back, b := roundTrip(t, m); !reflect.DeepEqual(back.Sandbox, want) {
		t.Errorf("round trip through %s: %+v, want %+v", b, back.Sandbox, want)
	}
}

// TestInterpreterManifest: a plugin run by an interpreter needs no execute bit on its artifact,
// and its interpreter marshals back as the top-level member it is.
func TestInterpreterManifest(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "plugin.js"), []byte(pluginScript), 0o644)
	path := filepath.Join(dir, "p.json")
	writeFile(t, path, []byte(goodFields("p", "plugin.js", sha256Hex([]byte(pluginScript))).
		set("transport", q("plugin")).set("interpreter", q("/bin/sh")).String()), 0o644)
	m, err := ReadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Sandbox.Interpreter != "/bin/sh" {
		t.Errorf("Interpreter = %q", m.Sandbox.Interpreter)
	}
	back, b := roundTrip(t, m)
	if back.Sandbox.Interpreter != "/bin/sh" || !strings.Contains(string(b), `"interpreter":"/bin/sh"`) || strings.Contains(string(b), `"sandbox":{"interpreter"`) {
		t.Errorf("round trip through %s: %q", b, back.Sandbox.Interpreter)
	}
}

// TestAbsoluteArtifact: an absolute artifact path is used as it is.
func TestAbsoluteArtifact(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	art := filepath.Join(other, "m.wasm")
	writeFile(t, art, emptyModule, 0o644)
	path := filepath.Join(dir, "kv.json")
	writeFile(t, path, []byte(goodFields("kv", art, sha256Hex(emptyModule)).String()), 0o644)
	m, err := ReadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.ArtifactPath() != art {
		t.Errorf("ArtifactPath = %s, want %s", m.ArtifactPath(), art)
	}
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{
		"0": 0, "1024": 1024, "12B": 12, "64KiB": 64 * KiB, "64 KiB": 64 * KiB, "256MiB": 256 * MiB, "4GiB": 4 * GiB,
	} {
		if got, err := ParseByteSize(in); err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "1.5MiB", "-1", "1 MB", "1  MiB", "1mib", "99999999999999999999", "20000000000GiB"} {
		if got, err := ParseByteSize(in); err == nil {
			t.Errorf("ParseByteSize(%q) = %v, want an error", in, got)
		}
	}
	for b, want := range map[ByteSize]string{256 * MiB: "256MiB", 1000: "1000B", 3 * KiB: "3KiB", 0: "0B", 4 * GiB: "4GiB"} {
		if got := b.String(); got != want {
			t.Errorf("ByteSize(%d).String() = %q, want %q", uint64(b), got, want)
		}
	}
}

// TestRegisterDoesNotPanic: a name registered behind this package's back (between its check
// and store.Register) is an error, not a panic.
func TestRegisterDoesNotPanic(t *testing.T) {
	name := uniqueName("race")
	f := func(context.Context, string) (store.Store, error) { return nil, errors.New("unused") }
	if err := register(name, f); err != nil {
		t.Fatal(err)
	}
	err := register(name, f)
	if !errors.Is(err, store.ErrDuplicateDriver) {
		t.Errorf("second register = %v, want store.ErrDuplicateDriver", err)
	}
}

// TestManifestScanBounds: a manifest's scan bounds reach the store the driver opens: a scan
// past max_scan_entries fails with pdk.ErrScanLimit.
func TestManifestScanBounds(t *testing.T) {
	code, sum := inmemWasm(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "inmem.wasm"), code, 0o644)
	name := uniqueName("scanbound")
	writeFile(t, filepath.Join(dir, name+".json"), []byte(goodFields(name, "inmem.wasm", sum).
		set("sandbox", `{"max_scan_entries": 10, "max_scan_bytes": "1MiB", "scan_timeout": "5s", "max_open_files": 16}`).String()), 0o644)
	if _, err := LoadDir(context.Background(), dir, WithLogger(slog.New(slog.DiscardHandler))); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := store.Open(ctx, name, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Update(ctx, func(tx store.Tx) error {
		for i := range 20 {
			if err := tx.Put("ns", fmt.Sprintf("k%02d", i), []byte("v")); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx store.Tx) error { _, err := tx.Scan("ns", ""); return err })
	if !errors.Is(err, pdk.ErrScanLimit) {
		t.Fatalf("a scan of 20 entries under max_scan_entries 10: %v, want pdk.ErrScanLimit", err)
	}
}
