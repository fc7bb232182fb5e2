package wasmhost

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

// TestConformanceBuntDB runs the suite against plugins/buntdb: a durable driver with no
// concurrent readers, in the sandbox, its data directory mounted through the os.Root
// filesystem. Reopen instantiates a fresh guest on the same directory, so durability is
// proved across instances, not only across Close.
func TestConformanceBuntDB(t *testing.T) {
	m := compileBuilt(t, buntdbWasm, WithName("buntdb"))
	var (
		mu   sync.Mutex
		dirs = map[store.Store]string{}
	)
	opened := func(s store.Store, dir string, err error) (store.Store, error) {
		if err == nil {
			mu.Lock()
			dirs[s] = dir
			mu.Unlock()
		}
		return s, err
	}
	storetest.Run(t, storetest.Harness{
		Open: func(ctx context.Context, t storetest.T) (store.Store, error) {
			dir := filepath.Join(t.TempDir(), "data")
			s, err := m.Open(ctx, dir)
			return opened(s, dir, err)
		},
		Reopen: func(ctx context.Context, t storetest.T, old store.Store) (store.Store, error) {
			mu.Lock()
			dir := dirs[old]
			mu.Unlock()
			s, err := m.Open(ctx, dir)
			return opened(s, dir, err)
		},
		Caps: storetest.Capabilities{Durable: true},
	})
}
