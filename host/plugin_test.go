package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// sqlitePlugin copies plugins/sqlite, built as a plugin binary, into dir and returns its
// sha256.
func sqlitePlugin(t testing.TB, dir string) string {
	t.Helper()
	path, err := artifactbuild.BuildPlugin("../plugins/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	code, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "sqlite-plugin"), code, 0o755)
	return sha256Hex(code)
}

// TestPluginManifest loads plugins/sqlite through a plugin manifest with options and a call
// timeout, opens it by name, and checks the data is durable across stores; then a manifest
// whose hash does not match the binary is refused.
func TestPluginManifest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sum := sqlitePlugin(t, dir)
	name := uniqueName("sqlite-plugin")
	writeFile(t, filepath.Join(dir, "sqlite.json"), []byte(fields{
		{"name", q(name)}, {"transport", q("plugin")}, {"artifact", q("sqlite-plugin")},
		{"sha256", q(sum)}, {"abi", q("1.0")},
		{"sandbox", `{"call_timeout": "10s"}`}, {"options", `{"busy_timeout": "2s"}`},
	}.String()), 0o644)
	loaded, err := LoadDir(ctx, dir, quiet)
	if err != nil || len(loaded) != 1 || loaded[0].Transport != TransportPlugin {
		t.Fatalf("LoadDir = %+v, %v", loaded, err)
	}
	dsn := filepath.Join(t.TempDir(), "store.db")
	s, err := store.Open(ctx, name, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if info, ok := pdk.InfoOf(s); !ok || info.Name != "sqlite" || !info.Caps.Durable {
		t.Errorf("InfoOf = %+v, %v; want the sqlite driver, durable", info, ok)
	}
	if st, ok := pdk.StatsOf(s); !ok || st.PID == 0 {
		t.Errorf("the store is not served by a plugin process: %+v, %v", st, ok)
	}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k\x00\xff", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = store.Open(ctx, name, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.View(ctx, func(tx store.Tx) error {
		v, err := tx.Get("ns", "k\x00\xff")
		if err == nil && string(v) != "v" {
			err = errors.New("wrong value " + string(v))
		}
		return err
	})
	if err != nil {
		t.Fatalf("reading back through a second plugin process: %v", err)
	}

	// The binary changes after the manifest was written: refused, naming both hashes.
	bad := t.TempDir()
	sqlitePlugin(t, bad)
	other := strings.Repeat("ab", 32)
	writeFile(t, filepath.Join(bad, "sqlite.json"), []byte(fields{
		{"name", q(uniqueName("sqlite-plugin"))}, {"transport", q("plugin")}, {"artifact", q("sqlite-plugin")},
		{"sha256", q(other)}, {"abi", q("1.0")},
	}.String()), 0o644)
	_, err = LoadDir(ctx, bad, quiet)
	if !errors.Is(err, ErrChecksumMismatch) || !strings.Contains(err.Error(), other) {
		t.Fatalf("LoadDir of a plugin with the wrong sha256: %v", err)
	}
}

// TestPluginOptionsReachTheDriver: options the plugin's driver refuses fail the open with the
// driver's own message.
func TestPluginOptionsReachTheDriver(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sum := sqlitePlugin(t, dir)
	writeFile(t, filepath.Join(dir, "sqlite.json"), []byte(fields{
		{"name", q(uniqueName("sqlite-plugin"))}, {"transport", q("plugin")}, {"artifact", q("sqlite-plugin")},
		{"sha256", q(sum)}, {"abi", q("1.0")}, {"options", `{"busy_timeout": "soon"}`},
	}.String()), 0o644)
	m, err := ReadManifest(filepath.Join(dir, "sqlite.json"))
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err = m.Open(cctx, filepath.Join(t.TempDir(), "db"), quiet)
	if err == nil || !strings.Contains(err.Error(), `busy_timeout "soon"`) {
		t.Fatalf("open with bad options: %v", err)
	}
}

// TestInterpreterChangeRefused: a manifest loaded again with another interpreter is a change
// of what runs the driver, refused like any other, naming the field.
func TestInterpreterChangeRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	script := []byte("// a script; nothing runs it in this test\n")
	writeFile(t, filepath.Join(dir, "d.js"), script, 0o644)
	name := uniqueName("interp")
	path := filepath.Join(dir, name+".json")
	manifest := func(interp string) []byte {
		return []byte(goodFields(name, "d.js", sha256Hex(script)).set("transport", q("plugin")).set("interpreter", q(interp)).String())
	}
	writeFile(t, path, manifest("/usr/bin/dash"), 0o644)
	if _, err := LoadDir(ctx, dir, quiet, CompileOnOpen()); err != nil {
		t.Fatalf("LoadDir: %v", err)
	}
	writeFile(t, path, manifest("/bin/bash"), 0o644)
	_, err := LoadDir(ctx, dir, quiet, CompileOnOpen())
	assertManifestErr(t, err, path, "interpreter", "cannot be replaced")
}
