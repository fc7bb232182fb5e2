package buntdb_test

import (
	"context"
	"testing"

	"github.com/dockyard/dockyard/drivers/buntdb"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

// caps is what the driver declares: durable, readers wait for the writer.
var caps = storetest.Capabilities{Durable: true, ConcurrentReaders: false}

// dir gives each case's store a data directory of its own.
func dir(t storetest.T) string { return t.TempDir() }

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.ByDSN(caps, dir, func(ctx context.Context, dir string) (store.Store, error) {
		return store.Open(ctx, buntdb.Name, dir)
	}))
}

// TestConformanceCompacting runs the suite with compaction at every doubling of the file from
// the first byte, so compaction happens inside the suite's transactions.
func TestConformanceCompacting(t *testing.T) {
	storetest.Run(t, storetest.ByDSN(caps, dir, func(ctx context.Context, dir string) (store.Store, error) {
		return buntdb.Open(ctx, dir, buntdb.WithCompactMinSize(0))
	}))
}
