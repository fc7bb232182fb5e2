package buntdb_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/dockyard/dockyard/drivers/buntdb"
	"github.com/dockyard/dockyard/internal/crashtest"
	"github.com/dockyard/dockyard/store"
)

// crashCompactMin is small, so that the child compacts the file now and then and some kills
// land during a compaction.
const crashCompactMin = 64 << 10

// crashConfig is the crash test of a data directory; crashtest.Config.Env names the directory
// the child writes to.
var crashConfig = crashtest.Config{
	Env: "DOCKYARD_BUNTDB_CRASH_CHILD",
	Open: func(ctx context.Context, dir string) (store.Store, error) {
		return buntdb.Open(ctx, dir, buntdb.WithCompactMinSize(crashCompactMin))
	},
	Reopen: func(ctx context.Context, dir string) (store.Store, error) {
		return buntdb.Open(ctx, dir, buntdb.WithCompactMinSize(-1)) // no compaction while checking
	},
}

// TestCrashChild is the child process of TestCrash. Without its variable set it returns at once.
func TestCrashChild(t *testing.T) { crashtest.Child(t, crashConfig) }

// TestCrash kills a child process that is committing transactions at a random moment, reopens
// the store and checks every acknowledged transaction is there in full and no transaction is
// there in part; 20 times over the same directory, so each round also recovers the last one's.
func TestCrash(t *testing.T) {
	cfg := crashConfig
	dir := t.TempDir()
	cfg.Target, cfg.Rounds = dir, 20
	if testing.Short() {
		cfg.Rounds = 5
	}
	cfg.Note = func() string {
		if _, err := os.Stat(filepath.Join(dir, buntdb.FileName+".compact")); err == nil {
			return " (during a compaction)"
		}
		return ""
	}
	crashtest.Run(t, cfg)
}
