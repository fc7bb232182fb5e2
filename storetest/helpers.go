package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dockyard/dockyard/store"
)

// caseTimeout bounds every case, so a driver that hangs fails instead of stalling the suite.
const caseTimeout = 2 * time.Minute

// testCtx returns a context that ends with the case.
func testCtx(t T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	t.Cleanup(cancel)
	return ctx
}

// open opens a fresh store from h and closes it when the case ends.
func open(t T, h Harness) (context.Context, store.Store) {
	t.Helper()
	ctx := testCtx(t)
	s, err := h.Open(ctx, t)
	if err != nil {
		t.Fatalf("Harness.Open: %v", err)
	}
	if s == nil {
		t.Fatalf("Harness.Open returned a nil store and no error")
	}
	t.Cleanup(func() { _ = s.Close() })
	return ctx, s
}

// reopen closes s and opens the same data again through h.Reopen.
func reopen(t T, h Harness, ctx context.Context, s store.Store) store.Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close before reopen: %v", err)
	}
	s2, err := h.Reopen(ctx, t, s)
	if err != nil {
		t.Fatalf("Harness.Reopen: %v", err)
	}
	t.Cleanup(func() { _ = s2.Close() })
	return s2
}

func put(t T, ctx context.Context, s store.Store, ns, key string, value []byte) {
	t.Helper()
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.Put(ns, key, value) }); err != nil {
		t.Fatalf("Update Put(%q, %q): %v", ns, key, err)
	}
}

// get reads (ns, key) in a View; found is false for ErrNotFound, any other error is fatal.
func get(t T, ctx context.Context, s store.Store, ns, key string) (value []byte, found bool) {
	t.Helper()
	err := s.View(ctx, func(tx store.Tx) error {
		v, err := tx.Get(ns, key)
		value = v
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, false
	}
	if err != nil {
		t.Fatalf("View Get(%q, %q): %v", ns, key, err)
	}
	return value, true
}

func wantValue(t T, ctx context.Context, s store.Store, ns, key string, want []byte) {
	t.Helper()
	got, found := get(t, ctx, s, ns, key)
	if !found {
		t.Fatalf("Get(%q, %q): not found, want %s", ns, key, short(want))
		return
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q, %q) = %s, want %s", ns, key, short(got), short(want))
	}
}

func wantAbsent(t T, ctx context.Context, s store.Store, ns, key string) {
	t.Helper()
	if got, found := get(t, ctx, s, ns, key); found {
		t.Fatalf("Get(%q, %q) = %s, want ErrNotFound", ns, key, short(got))
	}
}

func scan(t T, ctx context.Context, s store.Store, ns, prefix string) []store.KeyValue {
	t.Helper()
	var kvs []store.KeyValue
	err := s.View(ctx, func(tx store.Tx) error {
		var err error
		kvs, err = tx.Scan(ns, prefix)
		return err
	})
	if err != nil {
		t.Fatalf("View Scan(%q, %q): %v", ns, prefix, err)
	}
	return kvs
}

func keysOf(kvs []store.KeyValue) []string {
	keys := make([]string, len(kvs))
	for i, kv := range kvs {
		keys[i] = kv.Key
	}
	return keys
}

func wantErr(t T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want errors.Is(err, %v)", what, err, want)
	}
}

// short renders a value for a message without printing megabytes.
func short(b []byte) string {
	if len(b) <= 32 {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%q... (%d bytes)", b[:32], len(b))
}
