package inmem_test

import (
	"context"
	"errors"
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

// TestReadOnlyOpen: an in-memory store never exists before its open, so a read-only open is
// ErrNoStore, not an empty store that would look like a store with nothing in it.
func TestReadOnlyOpen(t *testing.T) {
	if s, err := store.OpenReadOnly(context.Background(), "inmem", ""); !errors.Is(err, store.ErrNoStore) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("OpenReadOnly(inmem) = %v, want ErrNoStore", err)
	}
}
