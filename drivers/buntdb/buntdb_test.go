package buntdb_test

import (
	"context"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/drivers/buntdb"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

// dirs remembers the data directory of each store the harness opened, for Reopen.
type dirs struct {
	mu sync.Mutex
	m  map[store.Store]string
}

func (d *dirs) open(ctx context.Context, dir string) (store.Store, error) {
	s, err := store.Open(ctx, buntdb.Name, dir)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.m[s] = dir
	return s, nil
}

func TestConformance(t *testing.T) {
	d := &dirs{m: map[store.Store]string{}}
	storetest.Run(t, storetest.Harness{
		Open: func(ctx context.Context, t storetest.T) (store.Store, error) {
			return d.open(ctx, t.TempDir())
		},
		Reopen: func(ctx context.Context, t storetest.T, s store.Store) (store.Store, error) {
			d.mu.Lock()
			dir := d.m[s]
			d.mu.Unlock()
			return d.open(ctx, dir)
		},
		Caps: storetest.Capabilities{Durable: true, ConcurrentReaders: false},
	})
}

// TestConformanceCompacting runs the suite with compaction at every doubling of the file from
// the first byte, so compaction happens inside the suite's transactions.
func TestConformanceCompacting(t *testing.T) {
	d := &dirs{m: map[store.Store]string{}}
	open := func(ctx context.Context, dir string) (store.Store, error) {
		s, err := buntdb.Open(ctx, dir, buntdb.WithCompactMinSize(0))
		if err != nil {
			return nil, err
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		d.m[s] = dir
		return s, nil
	}
	storetest.Run(t, storetest.Harness{
		Open: func(ctx context.Context, t storetest.T) (store.Store, error) { return open(ctx, t.TempDir()) },
		Reopen: func(ctx context.Context, t storetest.T, s store.Store) (store.Store, error) {
			d.mu.Lock()
			dir := d.m[s]
			d.mu.Unlock()
			return open(ctx, dir)
		},
		Caps: storetest.Capabilities{Durable: true, ConcurrentReaders: false},
	})
}
