package plugin

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

// TestConformance runs the suite against drivers/sqlite built as a plugin binary
// (plugins/sqlite) and served through this package: one process per store.
func TestConformance(t *testing.T) {
	bin, _ := binaries(t)
	var mu sync.Mutex
	dsns := map[store.Store]string{} // for Reopen
	open := func(ctx context.Context, dsn string) (store.Store, error) {
		s, err := Open(ctx, bin, dsn)
		if err == nil {
			mu.Lock()
			dsns[s] = dsn
			mu.Unlock()
		}
		return s, err
	}
	storetest.Run(t, storetest.Harness{
		Open: func(ctx context.Context, t storetest.T) (store.Store, error) {
			return open(ctx, filepath.Join(t.TempDir(), "store.db"))
		},
		Reopen: func(ctx context.Context, t storetest.T, s store.Store) (store.Store, error) {
			mu.Lock()
			dsn := dsns[s]
			mu.Unlock()
			return open(ctx, dsn)
		},
		Caps: storetest.Capabilities{Durable: true, ConcurrentReaders: true},
	})
}
