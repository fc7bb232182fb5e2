//go:build unix

package pluginhost

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

// TestConformance runs the suite against every driver of plugins/ that ships as a plugin
// binary, served through this package: one process per store. Each is the very driver code of
// drivers/<name>, the wasm modules' code too (plugins/inmem and plugins/buntdb build to both).
func TestConformance(t *testing.T) {
	for _, d := range []struct {
		name string
		dsn  func(t storetest.T) string
		caps storetest.Capabilities
	}{
		{"sqlite", func(t storetest.T) string { return filepath.Join(t.TempDir(), "store.db") },
			storetest.Capabilities{Durable: true, ConcurrentReaders: true}},
		{"buntdb", func(t storetest.T) string { return t.TempDir() },
			storetest.Capabilities{Durable: true}},
		{"inmem", func(storetest.T) string { return "" },
			storetest.Capabilities{ConcurrentReaders: true}},
	} {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel() // each store is a process of its own: they wait on each other little
			bin := binary(t, d.name)
			var mu sync.Mutex
			dsns := map[store.Store]string{} // for Reopen
			open := func(ctx context.Context, dsn string) (store.Store, error) {
				s, err := Open(ctx, bin, dsn, quiet)
				if err == nil {
					mu.Lock()
					dsns[s] = dsn
					mu.Unlock()
				}
				return s, err
			}
			h := storetest.Harness{
				Open: func(ctx context.Context, t storetest.T) (store.Store, error) { return open(ctx, d.dsn(t)) },
				Caps: d.caps,
			}
			if d.caps.Durable {
				h.Reopen = func(ctx context.Context, t storetest.T, s store.Store) (store.Store, error) {
					mu.Lock()
					dsn := dsns[s]
					mu.Unlock()
					return open(ctx, dsn)
				}
			}
			storetest.Run(t, h)
		})
	}
}
