package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

// TestReadOnlyArtifacts: store.OpenReadOnly reaches drivers loaded from manifests: buntdb as
// wasm and sqlite as a plugin open an existing store read-only, refuse writes, and a missing
// store is ErrNoStore with nothing created (no data directory, no database file); the wasm
// inmem is an empty store that refuses writes. Manifest.OpenReadOnly does the same without the
// registry.
func TestReadOnlyArtifacts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	wasm, err := artifactbuild.Build("../plugins/buntdb")
	if err != nil {
		t.Fatal(err)
	}
	code, err := os.ReadFile(wasm)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "buntdb.wasm"), code, 0o644)
	bunt := uniqueName("ro-buntdb")
	writeFile(t, filepath.Join(dir, bunt+".json"), []byte(goodFields(bunt, "buntdb.wasm", sha256Hex(code)).String()), 0o644)
	sum := sqlitePlugin(t, dir)
	plug := uniqueName("ro-sqlite-plugin")
	writeFile(t, filepath.Join(dir, plug+".json"), []byte(goodFields(plug, "sqlite-plugin", sum).set("transport", q("plugin")).String()), 0o644)
	inmemCode, inmemSum := inmemWasm(t)
	writeFile(t, filepath.Join(dir, "inmem.wasm"), inmemCode, 0o644)
	mem := uniqueName("ro-inmem")
	writeFile(t, filepath.Join(dir, mem+".json"), []byte(goodFields(mem, "inmem.wasm", inmemSum).String()), 0o644)
	if _, err := LoadDir(ctx, dir, quiet, CompileOnOpen()); err != nil {
		t.Fatal(err)
	}

	data := t.TempDir()
	t.Run("wasm", func(t *testing.T) {
		missing := filepath.Join(data, "no-such-dir")
		storetest.ReadOnly(t, bunt, missing, t.TempDir())
		if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a read-only open made the data directory: %v", err)
		}
	})
	t.Run("plugin", func(t *testing.T) {
		missing := filepath.Join(data, "typo.db")
		storetest.ReadOnly(t, plug, missing, filepath.Join(t.TempDir(), "app.db"))
		if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a read-only open made the database file: %v", err)
		}
	})
	t.Run("inmem", func(t *testing.T) { // an empty store, and its session refuses writes
		s, err := store.OpenReadOnly(ctx, mem, "")
		if err != nil {
			t.Fatalf("OpenReadOnly(inmem wasm): %v", err)
		}
		defer s.Close()
		if err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", nil) }); !errors.Is(err, store.ErrReadOnly) {
			t.Errorf("Update = %v, want ErrReadOnly", err)
		}
	})
	t.Run("manifest", func(t *testing.T) {
		m, err := ReadManifest(filepath.Join(dir, plug+".json"))
		if err != nil {
			t.Fatal(err)
		}
		missing := filepath.Join(data, "other.db")
		if _, err := m.OpenReadOnly(ctx, missing, quiet); !errors.Is(err, store.ErrNoStore) {
			t.Errorf("Manifest.OpenReadOnly(missing) = %v, want ErrNoStore", err)
		}
		if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Manifest.OpenReadOnly made the database file: %v", err)
		}
	})
}
