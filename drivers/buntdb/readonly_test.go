package buntdb_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dockyard/dockyard/drivers/buntdb"
	"github.com/dockyard/dockyard/storetest"
)

// TestReadOnly: a read-only open of a directory without a store is ErrNoStore and creates
// nothing in it; of a store, it reads and refuses writes.
func TestReadOnly(t *testing.T) {
	missing, fresh := t.TempDir(), t.TempDir()
	storetest.ReadOnly(t, buntdb.Name, missing, fresh)
	if entries, err := os.ReadDir(missing); err != nil || len(entries) != 0 {
		t.Errorf("a read-only open of an empty directory left %v (%v)", entries, err)
	}
	if _, err := os.Stat(filepath.Join(fresh, buntdb.FileName)); errors.Is(err, os.ErrNotExist) {
		t.Errorf("the store's file is gone: %v", err)
	}
}
