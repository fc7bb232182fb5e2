package host

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

// putGet writes a key in s and reads it back.
func putGet(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	key, val := "k\x00\xff", []byte("value")
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", key, val) }); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := s.View(ctx, func(tx store.Tx) error {
		got, err := tx.Get("ns", key)
		if err == nil && !bytes.Equal(got, val) {
			t.Errorf("Get = %q, want %q", got, val)
		}
		return err
	}); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// TestLoadDir loads a wasm driver, opens it by name through store.Open, and checks that
// loading the directory again changes nothing, while a changed manifest for the same name is
// refused.
func TestLoadDir(t *testing.T) {
	ctx := context.Background()
	name := uniqueName("kv")
	dir := driverDir(t, name)
	_, sum := inmemWasm(t)

	loaded, err := LoadDir(ctx, dir, quiet)
	if err != nil {
		t.Fatalf("LoadDir: %v", err)
	}
	want := Loaded{Name: name, Transport: TransportWasm, Artifact: filepath.Join(dir, "inmem.wasm"), SHA256: sum,
		ABI: "1.0", Manifest: filepath.Join(dir, name+".json")}
	if len(loaded) != 1 || loaded[0] != want {
		t.Fatalf("LoadDir = %+v, want [%+v]", loaded, want)
	}
	if !slices.Contains(Registered(), want) {
		t.Errorf("Registered() = %+v, lacks %+v", Registered(), want)
	}
	if !slices.Contains(store.Drivers(), name) {
		t.Fatalf("store.Drivers() = %v, lacks %s", store.Drivers(), name)
	}

	s, err := store.Open(ctx, name, t.TempDir())
	if err != nil {
		t.Fatalf("store.Open(%s): %v", name, err)
	}
	putGet(t, s)
	if info, ok := pdk.InfoOf(s); !ok || info.Name == "" {
		t.Errorf("pdk.InfoOf = %+v, %v", info, ok)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	// A second store of the same driver, on the module compiled once.
	s2, err := store.Open(ctx, name, "")
	if err != nil {
		t.Fatalf("second store.Open: %v", err)
	}
	putGet(t, s2)
	s2.Close()

	// Idempotent: the same directory again registers nothing and is no error.
	for range 2 {
		again, err := LoadDir(ctx, dir, quiet)
		if err != nil || len(again) != 0 {
			t.Fatalf("LoadDir again = %v, %v; want nothing, no error", again, err)
		}
	}

	// The same name with other settings, or another artifact, cannot replace the driver.
	path := filepath.Join(dir, name+".json")
	writeFile(t, path, []byte(goodFields(name, "inmem.wasm", sum).set("options", `{"x": 1}`).String()), 0o644)
	_, err = LoadDir(ctx, dir, quiet)
	assertManifestErr(t, err, path, "options", "cannot be replaced")

	writeFile(t, filepath.Join(dir, "other.wasm"), emptyModule, 0o644)
	writeFile(t, path, []byte(goodFields(name, "other.wasm", sha256Hex(emptyModule)).String()), 0o644)
	_, err = LoadDir(ctx, dir, quiet)
	assertManifestErr(t, err, path, "sha256", "cannot be replaced")
	if !errors.Is(err, store.ErrDuplicateDriver) {
		t.Errorf("err = %v, want store.ErrDuplicateDriver", err)
	}
	// The registered driver is untouched.
	if r := Registered(); !slices.Contains(r, want) {
		t.Errorf("Registered() = %+v, lacks %+v", r, want)
	}
}

func assertManifestErr(t *testing.T, err error, path, field, substr string) {
	t.Helper()
	var me *ManifestError
	if !errors.As(err, &me) || me.Path != path || me.Field != field {
		t.Fatalf("err = %v, want a ManifestError for %s, field %q", err, path, field)
	}
	if !strings.Contains(err.Error(), substr) {
		t.Errorf("err = %v, want it to say %q", err, substr)
	}
}

// TestLoadDirConformance runs the conformance suite against plugins/inmem loaded through a
// manifest and opened by name with store.Open: the whole path an application takes.
func TestLoadDirConformance(t *testing.T) {
	name := uniqueName("conform")
	if _, err := LoadDir(context.Background(), driverDir(t, name), quiet); err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, storetest.Harness{
		Open: func(ctx context.Context, t storetest.T) (store.Store, error) {
			return store.Open(ctx, name, "")
		},
		Caps: storetest.Capabilities{ConcurrentReaders: true},
	})
}

// TestLoadDirPartial: a bad manifest does not keep the good ones from loading, and the
// directory's other entries are ignored.
func TestLoadDirPartial(t *testing.T) {
	good := uniqueName("good")
	dir := driverDir(t, good)
	bad := filepath.Join(dir, "bad.json")
	writeFile(t, bad, []byte(`{"name": "x"}`), 0o644)
	// Ignored: hidden files, other extensions, subdirectories and what they hold.
	writeFile(t, filepath.Join(dir, ".partial.json"), []byte(`{`), 0o644)
	writeFile(t, filepath.Join(dir, "README"), []byte(`not json`), 0o644)
	writeFile(t, filepath.Join(dir, "kv.json.tmp"), []byte(`{`), 0o644)
	if err := os.Mkdir(filepath.Join(dir, "old"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "old", "x.json"), []byte(`{`), 0o644)

	loaded, err := LoadDir(context.Background(), dir, quiet)
	if len(loaded) != 1 || loaded[0].Name != good {
		t.Errorf("loaded %+v, want %s only", loaded, good)
	}
	assertManifestErr(t, err, bad, "transport", "missing")
	if strings.Count(err.Error(), "\n") != 0 {
		t.Errorf("err = %q: want the one bad manifest only", err)
	}
}

func TestLoadDirMissing(t *testing.T) {
	_, err := LoadDir(context.Background(), filepath.Join(t.TempDir(), "nope"), quiet)
	if !errors.Is(err, os.ErrNotExist) || errors.Is(err, ErrBadManifest) {
		t.Errorf("LoadDir of a missing directory = %v, want fs.ErrNotExist", err)
	}
}

// TestLoadEnv loads two directories named by DOCKYARD_DRIVERS (with an empty element between
// them), and nothing when the variable is unset.
func TestLoadEnv(t *testing.T) {
	a, b := uniqueName("env-a"), uniqueName("env-b")
	dirA, dirB := driverDir(t, a), driverDir(t, b)
	t.Setenv(EnvDrivers, strings.Join([]string{dirA, "", dirB}, string(os.PathListSeparator)))
	loaded, err := LoadEnv(context.Background(), quiet)
	if err != nil {
		t.Fatalf("LoadEnv: %v", err)
	}
	if len(loaded) != 2 || loaded[0].Name != a || loaded[1].Name != b {
		t.Fatalf("LoadEnv = %+v, want %s and %s", loaded, a, b)
	}
	for _, name := range []string{a, b} {
		s, err := store.Open(context.Background(), name, "")
		if err != nil {
			t.Fatalf("store.Open(%s): %v", name, err)
		}
		putGet(t, s)
		s.Close()
	}

	// A missing directory in the list is an error; the others still load (here: unchanged).
	t.Setenv(EnvDrivers, dirA+string(os.PathListSeparator)+filepath.Join(dirB, "missing"))
	if loaded, err := LoadEnv(context.Background(), quiet); !errors.Is(err, os.ErrNotExist) || len(loaded) != 0 {
		t.Errorf("LoadEnv with a missing directory = %v, %v", loaded, err)
	}

	os.Unsetenv(EnvDrivers) // t.Setenv restores it after the test
	if loaded, err := LoadEnv(context.Background(), quiet); err != nil || loaded != nil {
		t.Errorf("LoadEnv with %s unset = %v, %v; want nothing", EnvDrivers, loaded, err)
	}
}

// TestManifestOpen opens a store on a manifest without registering it.
func TestManifestOpen(t *testing.T) {
	ctx := context.Background()
	name := uniqueName("open")
	dir := driverDir(t, name)
	m, err := ReadManifest(filepath.Join(dir, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	m.Sandbox.MemoryLimit = 128 * MiB
	s, err := m.Open(ctx, t.TempDir(), quiet)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	putGet(t, s)
	if _, ok := pdk.InfoOf(s); !ok {
		t.Error("pdk.InfoOf does not describe the store")
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if slices.Contains(store.Drivers(), name) {
		t.Errorf("Manifest.Open registered %s", name)
	}

	// A changed artifact is refused before anything runs.
	bad := *m
	bad.SHA256 = strings.Repeat("ab", 32)
	if _, err := bad.Open(ctx, "", quiet); !errors.Is(err, ErrChecksumMismatch) || !strings.Contains(err.Error(), bad.SHA256) {
		t.Errorf("Open with a wrong sha256 = %v, want ErrChecksumMismatch showing the expected sum", err)
	}
	// A Manifest built in code is validated like a file.
	bad = *m
	bad.Transport = "plugin"
	if _, err := bad.Open(ctx, "", quiet); !errors.Is(err, ErrBadManifest) {
		t.Errorf("Open of a plugin manifest with memory_limit = %v, want ErrBadManifest", err)
	}
}

// TestOpenArtifact opens bare artifacts: wasm by its magic, anything neither wasm nor
// executable refused.
func TestOpenArtifact(t *testing.T) {
	ctx := context.Background()
	dir := driverDir(t)
	s, err := OpenArtifact(ctx, filepath.Join(dir, "inmem.wasm"), "", quiet)
	if err != nil {
		t.Fatalf("OpenArtifact(inmem.wasm): %v", err)
	}
	putGet(t, s)
	s.Close()

	text := filepath.Join(dir, "notes.txt")
	writeFile(t, text, []byte("hello"), 0o644)
	if _, err := OpenArtifact(ctx, text, "", quiet); !errors.Is(err, ErrUnknownArtifact) {
		t.Errorf("OpenArtifact(notes.txt) = %v, want ErrUnknownArtifact", err)
	}
	if _, err := OpenArtifact(ctx, dir, "", quiet); !errors.Is(err, ErrUnknownArtifact) {
		t.Errorf("OpenArtifact(a directory) = %v, want ErrUnknownArtifact", err)
	}
	// An executable goes to the plugin transport, which fails on a program that is no plugin.
	exe := filepath.Join(dir, "notaplugin")
	writeFile(t, exe, []byte(pluginScript), 0o755)
	if s, err := OpenArtifact(ctx, exe, "", quiet); err == nil || errors.Is(err, ErrUnknownArtifact) {
		if s != nil {
			s.Close()
		}
		t.Errorf("OpenArtifact(a script) = %v, want the plugin transport's error", err)
	}
	// A module that is not a driver fails to compile, with the wasm transport's error.
	empty := filepath.Join(dir, "empty.wasm")
	writeFile(t, empty, emptyModule, 0o644)
	if _, err := OpenArtifact(ctx, empty, "", quiet); err == nil || !strings.Contains(err.Error(), "dockyard_call") {
		t.Errorf("OpenArtifact(empty.wasm) = %v, want the missing exports named", err)
	}
}

// TestLoadDirCompileError: a wasm artifact that is not a driver is an error about the
// manifest's artifact, and nothing is registered.
func TestLoadDirCompileError(t *testing.T) {
	dir := t.TempDir()
	name := uniqueName("nodriver")
	writeFile(t, filepath.Join(dir, "m.wasm"), emptyModule, 0o644)
	path := filepath.Join(dir, "m.json")
	writeFile(t, path, []byte(goodFields(name, "m.wasm", sha256Hex(emptyModule)).String()), 0o644)
	_, err := LoadDir(context.Background(), dir, quiet)
	assertManifestErr(t, err, path, "artifact", "dockyard_call")
	if slices.Contains(store.Drivers(), name) {
		t.Errorf("%s registered", name)
	}
}

// TestCompileOnOpen: with CompileOnOpen, LoadDir verifies but does not compile, so a module
// that is no driver loads, and its first store.Open is the error LoadDir's would have been,
// naming the manifest's artifact; a good module compiles at its first Open and serves.
func TestCompileOnOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	bad := uniqueName("lazybad")
	writeFile(t, filepath.Join(dir, "m.wasm"), emptyModule, 0o644)
	path := filepath.Join(dir, "m.json")
	writeFile(t, path, []byte(goodFields(bad, "m.wasm", sha256Hex(emptyModule)).String()), 0o644)
	good := uniqueName("lazygood")
	gdir := driverDir(t, good)

	for _, d := range []string{dir, gdir} {
		if _, err := LoadDir(ctx, d, quiet, CompileOnOpen()); err != nil {
			t.Fatalf("LoadDir(%s, CompileOnOpen): %v", d, err)
		}
	}
	for range 2 { // a failed prepare is tried again, and fails again the same way
		_, err := store.Open(ctx, bad, "")
		assertManifestErr(t, err, path, "artifact", "dockyard_call")
	}
	s, err := store.Open(ctx, good, t.TempDir())
	if err != nil {
		t.Fatalf("store.Open(%s): %v", good, err)
	}
	putGet(t, s)
	s.Close()

	// Verification still happens at the load: a wrong sha256 registers nothing.
	wrong := uniqueName("lazysum")
	wdir := t.TempDir()
	writeFile(t, filepath.Join(wdir, "m.wasm"), emptyModule, 0o644)
	wpath := filepath.Join(wdir, "m.json")
	writeFile(t, wpath, []byte(goodFields(wrong, "m.wasm", sha256Hex([]byte("other"))).String()), 0o644)
	_, err = LoadDir(ctx, wdir, quiet, CompileOnOpen())
	assertManifestErr(t, err, wpath, "sha256", "expects")
	if slices.Contains(store.Drivers(), wrong) {
		t.Errorf("%s registered despite its wrong sha256", wrong)
	}
}
