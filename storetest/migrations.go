package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/dockyard/dockyard/store"
)

var migrationCases = []Case{
	{"MigrateNilAndEmptySets", testMigrateNil},
	{"MigrateAppliesInOrderOnce", testMigrateOnce},
	{"MigrateExtendsApplied", testMigrateExtend},
	{"MigrateDetectsReorder", testMigrateReorder},
	{"MigrateDetectsRemoval", testMigrateRemoval},
	{"MigrateFailureRollsBack", testMigrateFailure},
	{"MigrateRacingOnOneStore", testMigrateRace},
	{"MigrateIndependentStoresInParallel", testMigrateParallelStores},
}

// counting builds a set of the given IDs whose Up appends its ID to the "log" key and counts
// its runs.
func counting(runs map[string]*atomic.Int32, ids ...string) *store.MigrationSet {
	set := store.NewMigrationSet()
	for _, id := range ids {
		if runs[id] == nil {
			runs[id] = new(atomic.Int32)
		}
		n := runs[id]
		set.MustAdd(store.Migration{ID: id, Up: func(_ context.Context, tx store.Tx) error {
			n.Add(1)
			log, err := tx.Get("app", "log")
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			return tx.Put("app", "log", append(log, id+";"...))
		}})
	}
	return set
}

func wantRuns(t T, runs map[string]*atomic.Int32, want map[string]int32) {
	t.Helper()
	for id, n := range want {
		if got := runs[id].Load(); got != n {
			t.Fatalf("migration %q ran %d times, want %d", id, got, n)
		}
	}
}

func testMigrateNil(t T, h Harness) {
	ctx, s := open(t, h)
	if err := s.Migrate(ctx, nil); err != nil {
		t.Fatalf("Migrate(nil): %v", err)
	}
	if err := s.Migrate(ctx, store.NewMigrationSet()); err != nil {
		t.Fatalf("Migrate(empty set): %v", err)
	}
	if kvs := scan(t, ctx, s, store.MigrationNamespace, ""); len(kvs) != 0 {
		t.Fatalf("an empty Migrate recorded %q", keysOf(kvs))
	}
}

func testMigrateOnce(t T, h Harness) {
	ctx, s := open(t, h)
	runs := map[string]*atomic.Int32{}
	set := counting(runs, "0001_a", "0002_b", "0003_c")
	for i := 0; i < 3; i++ {
		if err := s.Migrate(ctx, set); err != nil {
			t.Fatalf("Migrate run %d: %v", i+1, err)
		}
	}
	wantRuns(t, runs, map[string]int32{"0001_a": 1, "0002_b": 1, "0003_c": 1})
	wantValue(t, ctx, s, "app", "log", []byte("0001_a;0002_b;0003_c;"))
	recs := keysOf(scan(t, ctx, s, store.MigrationNamespace, ""))
	if fmt.Sprint(recs) != "[0001_a 0002_b 0003_c]" {
		t.Fatalf("migration records in %q = %q", store.MigrationNamespace, recs)
	}
}

func testMigrateExtend(t T, h Harness) {
	ctx, s := open(t, h)
	runs := map[string]*atomic.Int32{}
	if err := s.Migrate(ctx, counting(runs, "0001", "0002")); err != nil {
		t.Fatalf("Migrate [0001 0002]: %v", err)
	}
	if err := s.Migrate(ctx, counting(runs, "0001", "0002", "0003")); err != nil {
		t.Fatalf("Migrate [0001 0002 0003]: %v", err)
	}
	wantRuns(t, runs, map[string]int32{"0001": 1, "0002": 1, "0003": 1})
	wantValue(t, ctx, s, "app", "log", []byte("0001;0002;0003;"))
}

func testMigrateReorder(t T, h Harness) {
	ctx, s := open(t, h)
	runs := map[string]*atomic.Int32{}
	if err := s.Migrate(ctx, counting(runs, "0001", "0002")); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	for _, ids := range [][]string{{"0002", "0001"}, {"0001", "0009", "0002"}, {"0009", "0001", "0002"}} {
		err := s.Migrate(ctx, counting(runs, ids...))
		wantErr(t, fmt.Sprintf("Migrate %q after [0001 0002]", ids), err, store.ErrMigrationOutOfOrder)
	}
	wantRuns(t, runs, map[string]int32{"0001": 1, "0002": 1, "0009": 0})
}

func testMigrateRemoval(t T, h Harness) {
	ctx, s := open(t, h)
	runs := map[string]*atomic.Int32{}
	if err := s.Migrate(ctx, counting(runs, "0001", "0002", "0003")); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	for _, ids := range [][]string{{"0001", "0002"}, {"0001", "0003"}, {"0002", "0003"}} {
		err := s.Migrate(ctx, counting(runs, ids...))
		wantErr(t, fmt.Sprintf("Migrate %q after [0001 0002 0003]", ids), err, store.ErrMigrationOutOfOrder)
		// Only the first is an older program's set, the whole of it applied and more.
		if older := ids[1] == "0002"; errors.Is(err, store.ErrStoreNewer) != older {
			t.Errorf("Migrate %q after [0001 0002 0003]: %v; ErrStoreNewer %v, want %v", ids, err, !older, older)
		}
	}
	wantRuns(t, runs, map[string]int32{"0001": 1, "0002": 1, "0003": 1})
}

func testMigrateFailure(t T, h Harness) {
	ctx, s := open(t, h)
	fail := true
	set := store.NewMigrationSet().
		MustAdd(store.Migration{ID: "0001", Up: func(_ context.Context, tx store.Tx) error { return tx.Put("app", "one", []byte("1")) }}).
		MustAdd(store.Migration{ID: "0002", Up: func(_ context.Context, tx store.Tx) error {
			if err := tx.Put("app", "two", []byte("2")); err != nil {
				return err
			}
			if fail {
				return errBoom
			}
			return nil
		}})
	wantErr(t, "Migrate with a failing migration", s.Migrate(ctx, set), errBoom)
	wantValue(t, ctx, s, "app", "one", []byte("1"))
	wantAbsent(t, ctx, s, "app", "two")
	if recs := keysOf(scan(t, ctx, s, store.MigrationNamespace, "")); fmt.Sprint(recs) != "[0001]" {
		t.Fatalf("records after a failed migration = %q, want [0001]", recs)
	}
	fail = false
	if err := s.Migrate(ctx, set); err != nil {
		t.Fatalf("Migrate after fixing the migration: %v", err)
	}
	wantValue(t, ctx, s, "app", "two", []byte("2"))
}

func testMigrateRace(t T, h Harness) {
	ctx, s := open(t, h)
	runs := map[string]*atomic.Int32{}
	set := counting(runs, "0001", "0002", "0003", "0004", "0005")
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := s.Migrate(ctx, set); err != nil {
				t.Errorf("racing Migrate: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	wantRuns(t, runs, map[string]int32{"0001": 1, "0002": 1, "0003": 1, "0004": 1, "0005": 1})
	wantValue(t, ctx, s, "app", "log", []byte("0001;0002;0003;0004;0005;"))
}

func testMigrateParallelStores(t T, h Harness) {
	ctx, a := open(t, h)
	_, b := open(t, h)
	runsA, runsB := map[string]*atomic.Int32{}, map[string]*atomic.Int32{}
	setA, setB := counting(runsA, "a1", "a2", "a3"), counting(runsB, "b1", "b2")
	var wg sync.WaitGroup
	for _, job := range []struct {
		s   store.Store
		set *store.MigrationSet
	}{{a, setA}, {b, setB}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := job.s.Migrate(ctx, job.set); err != nil {
				t.Errorf("Migrate: %v", err)
			}
		}()
	}
	wg.Wait()
	wantRuns(t, runsA, map[string]int32{"a1": 1, "a2": 1, "a3": 1})
	wantRuns(t, runsB, map[string]int32{"b1": 1, "b2": 1})
	wantValue(t, ctx, a, "app", "log", []byte("a1;a2;a3;"))
	wantValue(t, ctx, b, "app", "log", []byte("b1;b2;"))
}
