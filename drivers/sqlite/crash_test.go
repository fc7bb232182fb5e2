package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/dockyard/dockyard/drivers/sqlite"
	"github.com/dockyard/dockyard/internal/crashtest"
	"github.com/dockyard/dockyard/store"
)

// crashConfig is the crash test of a database file; crashtest.Config.Env names the file the
// child writes to.
var crashConfig = crashtest.Config{
	Env:  "DOCKYARD_SQLITE_CRASH_CHILD",
	Open: func(ctx context.Context, path string) (store.Store, error) { return sqlite.Open(ctx, path) },
}

// TestCrashChild is the child process of TestCrash. Without its variable set it returns at once.
func TestCrashChild(t *testing.T) { crashtest.Child(t, crashConfig) }

// TestCrash kills a child process that is committing transactions at a random moment, reopens
// the store and checks every acknowledged transaction is there in full and no transaction is
// there in part; 20 times over the same file, so each round also recovers the last one's.
func TestCrash(t *testing.T) {
	cfg := crashConfig
	cfg.Target, cfg.Rounds = filepath.Join(t.TempDir(), "crash.db"), 20
	if testing.Short() {
		cfg.Rounds = 5
	}
	crashtest.Run(t, cfg)
}
