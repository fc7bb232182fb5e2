package storetest

import (
	"context"
	"errors"
	"time"

	"github.com/dockyard/dockyard/store"
)

var lifecycleCases = []Case{
	{"Ping", testPing},
	{"CloseIsIdempotent", testCloseIdempotent},
	{"UseAfterClose", testUseAfterClose},
	{"CloseWaitsForTransactions", testCloseWaits},
	{"TxDeadAfterCallback", testTxDone},
}

func testPing(t T, h Harness) {
	ctx, s := open(t, h)
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping on a fresh store: %v", err)
	}
}

func testCloseIdempotent(t T, h Harness) {
	_, s := open(t, h)
	if err := s.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v (Close must be idempotent)", err)
	}
}

func testUseAfterClose(t T, h Harness) {
	ctx, s := open(t, h)
	put(t, ctx, s, "ns", "k", []byte("v"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	called := false
	fn := func(store.Tx) error { called = true; return nil }
	wantErr(t, "View after Close", s.View(ctx, fn), store.ErrClosed)
	wantErr(t, "Update after Close", s.Update(ctx, fn), store.ErrClosed)
	wantErr(t, "Ping after Close", s.Ping(ctx), store.ErrClosed)
	set := store.NewMigrationSet().MustAdd(store.Migration{ID: "0001", Up: func(_ context.Context, tx store.Tx) error { called = true; return nil }})
	wantErr(t, "Migrate after Close", s.Migrate(ctx, set), store.ErrClosed)
	if called {
		t.Fatalf("a callback ran on a closed store")
	}
}

// testCloseWaits holds an Update and a View open, calls Close, and checks Close returns only
// after both ended, that the Update committed, and that new transactions are refused meanwhile.
func testCloseWaits(t T, h Harness) {
	ctx, s := open(t, h)
	put(t, ctx, s, "ns", "seen", []byte("1"))
	inUpdate, releaseUpdate := make(chan struct{}), make(chan struct{})
	updateErr := make(chan error, 1)
	go func() {
		updateErr <- s.Update(ctx, func(tx store.Tx) error {
			close(inUpdate)
			<-releaseUpdate
			return tx.Put("ns", "late", []byte("committed during Close"))
		})
	}()
	<-inUpdate
	closeErr := make(chan error, 1)
	go func() { closeErr <- s.Close() }()

	// Close has begun (or will): a new transaction must not start, and Close must not return
	// while the Update is open.
	deadline := time.Now().Add(5 * time.Second)
	for {
		// A driver without concurrent readers makes this View wait for the Update: the
		// short deadline turns that wait into a retry.
		vctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		err := s.View(vctx, func(store.Tx) error { return nil })
		cancel()
		if errors.Is(err, store.ErrClosed) {
			break
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("View while Close pending: %v, want nil or ErrClosed", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("Close did not take effect within 5s while an Update was open")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-closeErr:
		t.Fatalf("Close returned (%v) while an Update was still open", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(releaseUpdate)
	if err := <-updateErr; err != nil {
		t.Fatalf("the Update in flight during Close failed: %v", err)
	}
	select {
	case err := <-closeErr:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("Close did not return after the last transaction ended")
	}
	if h.Caps.Durable {
		s2, err := h.Reopen(ctx, t, s)
		if err != nil {
			t.Fatalf("Reopen: %v", err)
		}
		t.Cleanup(func() { _ = s2.Close() })
		wantValue(t, ctx, s2, "ns", "late", []byte("committed during Close"))
	}
}

func testTxDone(t T, h Harness) {
	ctx, s := open(t, h)
	put(t, ctx, s, "ns", "k", []byte("v"))
	var kept store.Tx
	check := func(what string) {
		t.Helper()
		_, err := kept.Get("ns", "k")
		wantErr(t, what+": Get on a finished Tx", err, store.ErrTxDone)
		_, err = kept.Scan("ns", "")
		wantErr(t, what+": Scan on a finished Tx", err, store.ErrTxDone)
		wantErr(t, what+": Put on a finished Tx", kept.Put("ns", "k", []byte("x")), store.ErrTxDone)
		wantErr(t, what+": Delete on a finished Tx", kept.Delete("ns", "k"), store.ErrTxDone)
	}
	if err := s.Update(ctx, func(tx store.Tx) error { kept = tx; return nil }); err != nil {
		t.Fatalf("Update: %v", err)
	}
	check("after Update")
	if err := s.View(ctx, func(tx store.Tx) error { kept = tx; return nil }); err != nil {
		t.Fatalf("View: %v", err)
	}
	check("after View")
	if err := s.Update(ctx, func(tx store.Tx) error { kept = tx; return errors.New("fail") }); err == nil {
		t.Fatalf("Update returning an error: nil error")
	}
	check("after a failed Update")
	wantValue(t, ctx, s, "ns", "k", []byte("v"))
}
