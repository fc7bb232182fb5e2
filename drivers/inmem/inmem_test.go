package inmem_test

import (
	"context"
	"testing"

	_ "github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open: func(ctx context.Context, _ storetest.T) (store.Store, error) {
			return store.Open(ctx, "inmem", "")
		},
		Caps: storetest.Capabilities{ConcurrentReaders: true},
	})
}
