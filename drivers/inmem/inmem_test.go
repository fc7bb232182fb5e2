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

// TestReadOnlyOpen: a read-only open of inmem is an empty store that refuses writes (a new
// in-memory store creates nothing anywhere, so there is nothing to refuse to create).
func TestReadOnlyOpen(t *testing.T) {
	ctx := context.Background()
	s, err := store.OpenReadOnly(ctx, "inmem", "")
	if err != nil {
		t.Fatalf("OpenReadOnly(inmem): %v", err)
	}
	defer s.Close()
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", nil) }); !errors.Is(err, store.ErrReadOnly) {
		t.Errorf("Update = %v, want ErrReadOnly", err)
	}
	if err := s.View(ctx, func(tx store.Tx) error { _, err := tx.Get("ns", "k"); return err }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get = %v, want ErrNotFound", err)
	}
}
