package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	_ "github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/store"
)

func TestRegisterDuplicatePanics(t *testing.T) {
	factory := func(context.Context, string) (store.Store, error) { return nil, errors.New("unused") }
	store.Register("test-dup", factory)
	defer func() {
		r := recover()
		err, ok := r.(error)
		if !ok || !errors.Is(err, store.ErrDuplicateDriver) {
			t.Fatalf("second Register panicked with %v, want an error wrapping ErrDuplicateDriver", r)
		}
	}()
	store.Register("test-dup", factory)
	t.Fatal("second Register did not panic")
}

func TestOpenUnknownDriver(t *testing.T) {
	_, err := store.Open(context.Background(), "no-such-driver", "")
	if !errors.Is(err, store.ErrUnknownDriver) {
		t.Fatalf("Open of an unknown driver: %v, want ErrUnknownDriver", err)
	}
}

func TestOpenWrapsFactoryError(t *testing.T) {
	bad := errors.New("bad dsn")
	store.Register("test-failing", func(context.Context, string) (store.Store, error) { return nil, bad })
	if _, err := store.Open(context.Background(), "test-failing", "x"); !errors.Is(err, bad) {
		t.Fatalf("Open = %v, want the factory's error wrapped", err)
	}
}

func TestDriversSorted(t *testing.T) {
	for _, name := range []string{"test-zeta", "test-alpha", "test-mid"} {
		store.Register(name, func(context.Context, string) (store.Store, error) { return nil, nil })
	}
	got := store.Drivers()
	if !slices.IsSorted(got) {
		t.Fatalf("Drivers() = %q, not sorted", got)
	}
	for _, want := range []string{"inmem", "test-alpha", "test-mid", "test-zeta"} {
		if !slices.Contains(got, want) {
			t.Fatalf("Drivers() = %q, missing %q", got, want)
		}
	}
}

func TestMigrationSetAdd(t *testing.T) {
	up := func(context.Context, store.Tx) error { return nil }
	s := store.NewMigrationSet()
	if _, err := s.Add(store.Migration{ID: "", Up: up}); err == nil {
		t.Error("Add with an empty ID: no error")
	}
	if _, err := s.Add(store.Migration{ID: "0001"}); err == nil {
		t.Error("Add with a nil Up: no error")
	}
	if got, err := s.Add(store.Migration{ID: "0001", Up: up}); err != nil || got != s {
		t.Fatalf("Add = %p, %v; want the receiver and no error", got, err)
	}
	if _, err := s.Add(store.Migration{ID: "0001", Up: up}); !errors.Is(err, store.ErrDuplicateMigration) {
		t.Errorf("Add of a repeated ID: %v, want ErrDuplicateMigration", err)
	}
	if s.Len() != 1 {
		t.Errorf("Len = %d after one good Add, want 1", s.Len())
	}
	var nilSet *store.MigrationSet
	if nilSet.Len() != 0 {
		t.Error("Len of a nil set is not 0")
	}
}

func TestMigrationSetExtend(t *testing.T) {
	up := func(context.Context, store.Tx) error { return nil }
	a := store.NewMigrationSet().MustAdd(store.Migration{ID: "a1", Up: up})
	b := store.NewMigrationSet().MustAdd(store.Migration{ID: "b1", Up: up}).MustAdd(store.Migration{ID: "b2", Up: up})
	if _, err := a.Extend(b); err != nil || a.Len() != 3 {
		t.Fatalf("Extend = %v, Len %d; want nil, 3", err, a.Len())
	}
	c := store.NewMigrationSet().MustAdd(store.Migration{ID: "c1", Up: up}).MustAdd(store.Migration{ID: "b2", Up: up})
	if _, err := a.Extend(c); !errors.Is(err, store.ErrDuplicateMigration) {
		t.Fatalf("Extend with a duplicate: %v, want ErrDuplicateMigration", err)
	}
	if a.Len() != 3 {
		t.Fatalf("a failed Extend changed the set: Len %d, want 3", a.Len())
	}
}

func TestMustAddPanics(t *testing.T) {
	up := func(context.Context, store.Tx) error { return nil }
	s := store.NewMigrationSet().MustAdd(store.Migration{ID: "x", Up: up})
	defer func() {
		if err, _ := recover().(error); !errors.Is(err, store.ErrDuplicateMigration) {
			t.Fatalf("MustAdd of a duplicate panicked with %v", err)
		}
	}()
	s.MustAdd(store.Migration{ID: "x", Up: up})
	t.Fatal("MustAdd of a duplicate did not panic")
}

func TestRunMigrationsNilSet(t *testing.T) {
	s, err := store.Open(context.Background(), "inmem", "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := store.RunMigrations(context.Background(), s, nil); err != nil {
		t.Fatalf("RunMigrations(nil set) = %v", err)
	}
}

// TestRunMigrationsCorruptRecord: a damaged record is reported, naming it, not ignored.
func TestRunMigrationsCorruptRecord(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, "inmem", "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Update(ctx, func(tx store.Tx) error {
		return tx.Put(store.MigrationNamespace, "0001", []byte("{not json"))
	}); err != nil {
		t.Fatal(err)
	}
	set := store.NewMigrationSet().MustAdd(store.Migration{ID: "0001", Up: func(context.Context, store.Tx) error { return nil }})
	if err := s.Migrate(ctx, set); err == nil || !strings.Contains(err.Error(), `"0001" is corrupt`) {
		t.Fatalf("Migrate over a corrupt record: %v", err)
	}
}
