package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dockyard/dockyard/drivers/sqlite"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

// TestReadOnly: a read-only open of a missing file or an empty one is ErrNoStore and creates
// nothing; of a store, it reads and refuses writes (storetest.ReadOnly), and leaves the file's
// bytes as they were.
func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	missing, path := filepath.Join(dir, "typo.db"), filepath.Join(dir, "app.db")
	storetest.ReadOnly(t, sqlite.Name, missing, path)
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a read-only open of a missing file created it: %v", err)
	}

	ctx := context.Background()
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := store.OpenReadOnly(ctx, sqlite.Name, empty); !errors.Is(err, store.ErrNoStore) {
		t.Fatalf("OpenReadOnly(empty file) = %v, want ErrNoStore", err)
	}
	if fi, err := os.Stat(empty); err != nil || fi.Size() != 0 {
		t.Fatalf("the empty file changed: %v, %v", fi, err)
	}

	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ro, err := store.OpenDSNReadOnly(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatalf("OpenDSNReadOnly: %v", err)
	}
	_ = ro.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("w")) })
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	if after, err := os.ReadFile(path); err != nil || string(before) != string(after) {
		t.Errorf("the read-only open changed the database file (%v)", err)
	}
}
