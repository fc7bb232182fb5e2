package abi

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// TestHelloReadOnly: a client opened with Hello.ReadOnly sends HELLO_READONLY; the guest's
// Opener is told, its driver's missing store comes back as store.ErrNoStore, and the
// dispatcher refuses a writable BEGIN of the session whatever the driver would do.
func TestHelloReadOnly(t *testing.T) {
	ctx := context.Background()
	var told []bool
	open := func(_ context.Context, h Hello) (pdk.Driver, error) {
		told = append(told, h.ReadOnly)
		if h.DSN == "missing" {
			return nil, fmt.Errorf("no file: %w", store.ErrNoStore)
		}
		return inmem.NewDriver(), nil
	}
	if _, err := NewClient(ctx, NewLoopback(open), Hello{DSN: "missing", ReadOnly: true}); !errors.Is(err, store.ErrNoStore) {
		t.Fatalf("NewClient(missing, read-only) = %v, want ErrNoStore", err)
	}
	d, err := NewClient(ctx, NewLoopback(open), Hello{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if len(told) != 2 || !told[0] || !told[1] {
		t.Errorf("the Opener was told ReadOnly %v, want [true true]", told)
	}
	s := pdk.NewStore(d) // no WithReadOnly: the guest's dispatcher refuses on its own
	err = s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v")) })
	if !errors.Is(err, store.ErrReadOnly) {
		t.Errorf("Update in a read-only session = %v, want ErrReadOnly", err)
	}
	if err := s.View(ctx, func(tx store.Tx) error {
		_, err := tx.Get("ns", "k")
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}); err != nil {
		t.Errorf("View in a read-only session: %v", err)
	}
}

// TestHelloReadOnlyOldGuest: a guest before ABI 1.2 refuses the frame holding HELLO_READONLY
// as BAD_FRAME (an unknown op code), having opened nothing; the client reports that as
// store.ErrReadOnlyUnsupported, not as a broken guest.
func TestHelloReadOnlyOldGuest(t *testing.T) {
	opened := 0
	inner := NewLoopback(func(context.Context, Hello) (pdk.Driver, error) { opened++; return inmem.NewDriver(), nil })
	old := rtFunc(func(ctx context.Context, req []byte) ([]byte, error) {
		if len(req) > HeaderSize && Op(req[HeaderSize]) == OpHelloReadOnly {
			e := NewEncoder(nil)
			e.AppendHeader(ResponseMagic, Major, 1, 1)
			appendFailure(&e, BadFrame, fmt.Sprintf("op 0: unknown op code %d at offset %d", OpHelloReadOnly, HeaderSize))
			return e.Bytes(), nil
		}
		return inner.RoundTrip(ctx, req)
	})
	_, err := NewClient(context.Background(), old, Hello{ReadOnly: true})
	if !errors.Is(err, store.ErrReadOnlyUnsupported) {
		t.Fatalf("NewClient(read-only) on a 1.1 guest = %v, want ErrReadOnlyUnsupported", err)
	}
	if opened != 0 {
		t.Errorf("the guest opened %d drivers", opened)
	}
}

// TestNoStoreStatus: NO_STORE is a status of ABI 1.2: a 1.1 host gets FAILED instead.
func TestNoStoreStatus(t *testing.T) {
	err := fmt.Errorf("x: %w", store.ErrNoStore)
	if st := StatusFor(err, 2); st != NoStore {
		t.Errorf("StatusFor(ErrNoStore, 1.2) = %v, want NO_STORE", st)
	}
	if st := StatusFor(err, 1); st != Failed {
		t.Errorf("StatusFor(ErrNoStore, 1.1) = %v, want FAILED", st)
	}
	if !errors.Is(NoStore.Err("no file"), store.ErrNoStore) {
		t.Errorf("NO_STORE's error does not wrap ErrNoStore")
	}
}
