package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/dockyard/dockyard/store"
)

// roRun numbers the runs of TestOpenReadOnly.
var roRun atomic.Int32

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
	n := roRun.Add(1) // a name per run: the registry keeps them (go test -count=N)
	awareName, unawareName := fmt.Sprintf("test-ro-aware-%d", n), fmt.Sprintf("test-ro-unaware-%d", n)
	store.Register(awareName, func(ctx context.Context, _ string) (store.Store, error) {
		asked = append(asked, store.ReadOnlyOpen(ctx))
		return aware, nil
	})
	unaware := &closeCounter{}
	store.Register(unawareName, func(context.Context, string) (store.Store, error) { return unaware, nil })

	if s, err := store.Open(ctx, awareName, ""); err != nil || s != aware {
		t.Fatalf("Open = %v, %v", s, err)
	}
	if s, err := store.OpenDSNReadOnly(ctx, awareName+":x"); err != nil || s != aware {
		t.Fatalf("OpenDSNReadOnly = %v, %v", s, err)
	}
	if len(asked) != 2 || asked[0] || !asked[1] {
		t.Errorf("ReadOnlyOpen answered %v, want [false true]", asked)
	}
	if aware.closed != 0 {
		t.Errorf("the aware driver's store was closed")
	}

	_, err := store.OpenReadOnly(ctx, unawareName, "")
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
