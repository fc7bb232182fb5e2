package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dockyard/dockyard/store"
)

// closeCounter is a Store that counts its Close calls; nothing else is called.
type closeCounter struct {
	store.Store
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return nil }

// TestOpenReadOnly: the factory learns of a read-only open from ReadOnlyOpen, a plain Open
// does not ask it, and the store of a factory that never asks is closed and refused.
func TestOpenReadOnly(t *testing.T) {
	ctx := context.Background()
	var asked []bool
	aware := &closeCounter{}
	store.Register("test-ro-aware", func(ctx context.Context, _ string) (store.Store, error) {
		asked = append(asked, store.ReadOnlyOpen(ctx))
		return aware, nil
	})
	unaware := &closeCounter{}
	store.Register("test-ro-unaware", func(context.Context, string) (store.Store, error) { return unaware, nil })

	if s, err := store.Open(ctx, "test-ro-aware", ""); err != nil || s != aware {
		t.Fatalf("Open = %v, %v", s, err)
	}
	if s, err := store.OpenDSNReadOnly(ctx, "test-ro-aware:x"); err != nil || s != aware {
		t.Fatalf("OpenDSNReadOnly = %v, %v", s, err)
	}
	if len(asked) != 2 || asked[0] || !asked[1] {
		t.Errorf("ReadOnlyOpen answered %v, want [false true]", asked)
	}
	if aware.closed != 0 {
		t.Errorf("the aware driver's store was closed")
	}

	_, err := store.OpenReadOnly(ctx, "test-ro-unaware", "")
	if !errors.Is(err, store.ErrReadOnlyUnsupported) {
		t.Fatalf("OpenReadOnly of a driver that never asks = %v, want ErrReadOnlyUnsupported", err)
	}
	if unaware.closed != 1 {
		t.Errorf("the refused store was closed %d times, want 1", unaware.closed)
	}
	if _, err := store.OpenDSNReadOnly(ctx, "no-colon"); !errors.Is(err, store.ErrInvalidDSN) {
		t.Errorf("OpenDSNReadOnly(no-colon) = %v, want ErrInvalidDSN", err)
	}
	if store.ReadOnlyOpen(ctx) {
		t.Errorf("ReadOnlyOpen of a plain context = true")
	}
}
