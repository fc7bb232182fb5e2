package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/dockyard/dockyard/store"
)

// ReadOnly checks a driver's read-only opens (store.OpenReadOnly) on two DSNs of the driver:
// missing names no store (a file, directory, table or prefix that does not exist), fresh one
// that may be created. A read-only open of missing fails with store.ErrNoStore; then fresh is
// created by a plain open, written and migrated, and opened read-only: it reads what was
// written, refuses Update with store.ErrReadOnly, accepts Migrate of the applied migration and
// refuses a pending one. That missing is still missing afterwards is the caller's to check,
// since only the caller knows what a store of its driver is made of.
func ReadOnly(t *testing.T, driver, missing, fresh string) {
	t.Helper()
	ctx := context.Background()
	if s, err := store.OpenReadOnly(ctx, driver, missing); !errors.Is(err, store.ErrNoStore) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("OpenReadOnly(%s, %q) = %v, want an error wrapping store.ErrNoStore", driver, missing, err)
	}
	noop := func(context.Context, store.Tx) error { return nil }
	applied := store.NewMigrationSet().MustAdd(store.Migration{ID: "readonly-1", Up: noop})
	s, err := store.Open(ctx, driver, fresh)
	if err != nil {
		t.Fatalf("Open(%s, %q): %v", driver, fresh, err)
	}
	if err := s.Migrate(ctx, applied); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v")) }); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	ro, err := store.OpenReadOnly(ctx, driver, fresh)
	if err != nil {
		t.Fatalf("OpenReadOnly(%s, %q) of a store: %v", driver, fresh, err)
	}
	defer ro.Close()
	if err := ro.View(ctx, func(tx store.Tx) error {
		v, err := tx.Get("ns", "k")
		if err == nil && string(v) != "v" {
			t.Errorf("read-only Get = %q, want %q", v, "v")
		}
		return err
	}); err != nil {
		t.Fatalf("read-only View: %v", err)
	}
	err = ro.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("w")) })
	if !errors.Is(err, store.ErrReadOnly) {
		t.Errorf("read-only Update = %v, want an error wrapping store.ErrReadOnly", err)
	}
	if err := ro.Migrate(ctx, applied); err != nil {
		t.Errorf("read-only Migrate of applied migrations = %v, want nil", err)
	}
	pending, err := store.NewMigrationSet().MustAdd(store.Migration{ID: "readonly-1", Up: noop}).
		Add(store.Migration{ID: "readonly-2", Up: noop})
	if err != nil {
		t.Fatal(err)
	}
	if err := ro.Migrate(ctx, pending); !errors.Is(err, store.ErrReadOnly) {
		t.Errorf("read-only Migrate of a pending migration = %v, want an error wrapping store.ErrReadOnly", err)
	}
	if err := ro.View(ctx, func(tx store.Tx) error {
		v, err := tx.Get("ns", "k")
		if err == nil && string(v) != "v" {
			t.Errorf("after the refused writes, Get = %q, want %q", v, "v")
		}
		return err
	}); err != nil {
		t.Fatalf("read-only View: %v", err)
	}
}
