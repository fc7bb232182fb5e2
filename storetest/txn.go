package storetest

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/dockyard/dockyard/store"
)

var txnCases = []Case{
	{"ViewIsReadOnly", testViewReadOnly},
	{"UpdateCommits", testUpdateCommits},
	{"RollbackOnError", testRollbackOnError},
	{"RollbackOnPanic", testRollbackOnPanic},
	{"ReadYourOwnWrites", testReadYourWrites},
	{"CallbackRunsExactlyOnce", testRunsOnce},
	{"CancelledBeforeCallback", testCancelledBefore},
	{"CancelledDuringCallback", testCancelledDuring},
}

var errBoom = errors.New("storetest: callback failed on purpose")

func testViewReadOnly(t T, h Harness) {
	ctx, s := open(t, h)
	put(t, ctx, s, "ns", "k", []byte("v"))
	err := s.View(ctx, func(tx store.Tx) error {
		wantErr(t, "Put in View", tx.Put("ns", "k", []byte("changed")), store.ErrReadOnly)
		wantErr(t, "Put of a new key in View", tx.Put("ns", "new", []byte("x")), store.ErrReadOnly)
		wantErr(t, "Delete in View", tx.Delete("ns", "k"), store.ErrReadOnly)
		v, err := tx.Get("ns", "k")
		if err != nil || string(v) != "v" {
			t.Errorf("Get after rejected writes in View = %q, %v", v, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	wantValue(t, ctx, s, "ns", "k", []byte("v"))
	wantAbsent(t, ctx, s, "ns", "new")
}

func testUpdateCommits(t T, h Harness) {
	ctx, s := open(t, h)
	err := s.Update(ctx, func(tx store.Tx) error {
		for _, k := range []string{"a", "b", "c"} {
			if err := tx.Put("ns", k, []byte(k)); err != nil {
				return err
			}
		}
		return tx.Put("other", "x", []byte("y"))
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if got := keysOf(scan(t, ctx, s, "ns", "")); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("after commit Scan = %q", got)
	}
	wantValue(t, ctx, s, "other", "x", []byte("y"))
}

func testRollbackOnError(t T, h Harness) {
	ctx, s := open(t, h)
	put(t, ctx, s, "ns", "keep", []byte("before"))
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.Put("ns", "new", []byte("x")); err != nil {
			return err
		}
		if err := tx.Put("ns", "keep", []byte("after")); err != nil {
			return err
		}
		if err := tx.Delete("ns", "keep"); err != nil {
			return err
		}
		return errBoom
	})
	wantErr(t, "Update whose callback failed", err, errBoom)
	wantAbsent(t, ctx, s, "ns", "new")
	wantValue(t, ctx, s, "ns", "keep", []byte("before"))
	err = s.View(ctx, func(store.Tx) error { return errBoom })
	wantErr(t, "View whose callback failed", err, errBoom)
}

func testRollbackOnPanic(t T, h Harness) {
	ctx, s := open(t, h)
	put(t, ctx, s, "ns", "keep", []byte("before"))
	for _, writable := range []bool{true, false} {
		recovered := func() (r any) {
			defer func() { r = recover() }()
			fn := func(tx store.Tx) error {
				if writable {
					_ = tx.Put("ns", "new", []byte("x"))
					_ = tx.Put("ns", "keep", []byte("after"))
				}
				panic(errBoom)
			}
			if writable {
				_ = s.Update(ctx, fn)
			} else {
				_ = s.View(ctx, fn)
			}
			return nil
		}()
		if recovered != errBoom {
			t.Fatalf("writable=%v: the callback's panic did not propagate unchanged: recovered %v", writable, recovered)
		}
	}
	wantAbsent(t, ctx, s, "ns", "new")
	wantValue(t, ctx, s, "ns", "keep", []byte("before"))
	// The panicking transactions released everything: the next writer proceeds promptly.
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.Update(wctx, func(tx store.Tx) error { return tx.Put("ns", "next", []byte("ok")) }); err != nil {
		t.Fatalf("Update after a panicking Update: %v", err)
	}
	wantValue(t, ctx, s, "ns", "next", []byte("ok"))
}

func testReadYourWrites(t T, h Harness) {
	ctx, s := open(t, h)
	put(t, ctx, s, "ns", "b", []byte("committed b"))
	put(t, ctx, s, "ns", "d", []byte("committed d"))
	err := s.Update(ctx, func(tx store.Tx) error {
		step := func(what string, wantKeys []string, key string, want []byte, present bool) {
			t.Helper()
			v, err := tx.Get("ns", key)
			switch {
			case present && (err != nil || string(v) != string(want)):
				t.Errorf("%s: Get(%q) = %q, %v; want %q", what, key, v, err, want)
			case !present && !errors.Is(err, store.ErrNotFound):
				t.Errorf("%s: Get(%q) = %q, %v; want ErrNotFound", what, key, v, err)
			}
			kvs, err := tx.Scan("ns", "")
			if err != nil {
				t.Errorf("%s: Scan: %v", what, err)
			}
			if got := keysOf(kvs); !slices.Equal(got, wantKeys) {
				t.Errorf("%s: Scan = %q, want %q", what, got, wantKeys)
			}
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Errorf("write: %v", err)
			}
		}
		must(tx.Put("ns", "a", []byte("a1")))
		step("put new", []string{"a", "b", "d"}, "a", []byte("a1"), true)
		must(tx.Put("ns", "b", []byte("b2")))
		step("overwrite committed", []string{"a", "b", "d"}, "b", []byte("b2"), true)
		must(tx.Delete("ns", "d"))
		step("delete committed", []string{"a", "b"}, "d", nil, false)
		must(tx.Put("ns", "d", []byte("d2")))
		step("put after delete", []string{"a", "b", "d"}, "d", []byte("d2"), true)
		must(tx.Delete("ns", "d"))
		step("delete-put-delete", []string{"a", "b"}, "d", nil, false)
		must(tx.Put("ns", "d", []byte("d3")))
		step("delete-put-delete-put", []string{"a", "b", "d"}, "d", []byte("d3"), true)
		must(tx.Delete("ns", "a"))
		step("delete own put", []string{"b", "d"}, "a", nil, false)
		must(tx.Put("ns", "c", []byte("c1")))
		step("put between", []string{"b", "c", "d"}, "c", []byte("c1"), true)
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if got := keysOf(scan(t, ctx, s, "ns", "")); !slices.Equal(got, []string{"b", "c", "d"}) {
		t.Fatalf("after commit Scan = %q, want [b c d]", got)
	}
	wantValue(t, ctx, s, "ns", "b", []byte("b2"))
	wantValue(t, ctx, s, "ns", "d", []byte("d3"))
}

func testRunsOnce(t T, h Harness) {
	ctx, s := open(t, h)
	for _, fail := range []bool{false, true} {
		var updates, views int
		_ = s.Update(ctx, func(tx store.Tx) error {
			updates++
			if err := tx.Put("ns", "k", []byte("v")); err != nil {
				return err
			}
			if fail {
				return errBoom
			}
			return nil
		})
		_ = s.View(ctx, func(tx store.Tx) error {
			views++
			if fail {
				return errBoom
			}
			return nil
		})
		if updates != 1 || views != 1 {
			t.Fatalf("failing=%v: Update ran fn %d times, View %d times; want exactly once each", fail, updates, views)
		}
	}
}

func testCancelledBefore(t T, h Harness) {
	ctx, s := open(t, h)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	called := false
	err := s.Update(cctx, func(tx store.Tx) error { called = true; return tx.Put("ns", "k", []byte("v")) })
	wantErr(t, "Update with a cancelled context", err, context.Canceled)
	err = s.View(cctx, func(tx store.Tx) error { called = true; return nil })
	wantErr(t, "View with a cancelled context", err, context.Canceled)
	if called {
		t.Fatalf("a callback ran with a context cancelled before the call")
	}
	wantAbsent(t, ctx, s, "ns", "k")
}

func testCancelledDuring(t T, h Harness) {
	ctx, s := open(t, h)
	cctx, cancel := context.WithCancel(ctx)
	err := s.Update(cctx, func(tx store.Tx) error {
		if err := tx.Put("ns", "k", []byte("v")); err != nil {
			return err
		}
		cancel()
		if _, err := tx.Get("ns", "k"); !errors.Is(err, context.Canceled) {
			t.Errorf("Get after the context was cancelled: %v, want context.Canceled", err)
		}
		return nil // fn succeeds, but the context ended: the Update must not commit
	})
	wantErr(t, "Update whose context was cancelled during fn", err, context.Canceled)
	wantAbsent(t, ctx, s, "ns", "k")

	dctx, cancel2 := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel2()
	err = s.Update(dctx, func(tx store.Tx) error {
		if err := tx.Put("ns", "k2", []byte("v")); err != nil {
			return err
		}
		<-dctx.Done()
		return nil
	})
	wantErr(t, "Update whose deadline passed during fn", err, context.DeadlineExceeded)
	wantAbsent(t, ctx, s, "ns", "k2")
}
