package storetest

import (
	"context"
	"errors"
	"time"

	"github.com/dockyard/dockyard/store"
)

var capabilityCases = []Case{
	{"Durability", testDurability},
	{"ConcurrentReaders", testConcurrentReaders},
}

// testDurability checks a declared durable driver keeps committed data, and only committed
// data, across Close and Reopen; a harness that does not declare durability must not offer
// Reopen.
func testDurability(t T, h Harness) {
	if !h.Caps.Durable {
		if h.Reopen != nil {
			t.Fatalf("harness has Reopen but does not declare Caps.Durable")
		}
		t.Logf("driver declares no durability: checked the harness offers no Reopen")
		return
	}
	if h.Reopen == nil {
		t.Fatalf("harness declares Caps.Durable but has no Reopen")
	}
	ctx, s := open(t, h)
	big := randomBytes(9, 1<<20)
	put(t, ctx, s, "ns", "k", []byte("v"))
	put(t, ctx, s, "ns", "big", big)
	put(t, ctx, s, "ns", "gone", []byte("x"))
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.Delete("ns", "gone") }); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_ = s.Update(ctx, func(tx store.Tx) error {
		_ = tx.Put("ns", "rolled-back", []byte("x"))
		return errBoom
	})
	runs := 0
	set := store.NewMigrationSet().MustAdd(store.Migration{ID: "0001", Up: func(ctx context.Context, tx store.Tx) error {
		runs++
		return tx.Put("ns", "migrated", []byte("yes"))
	}})
	if err := s.Migrate(ctx, set); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	s2 := reopen(t, h, ctx, s)
	wantValue(t, ctx, s2, "ns", "k", []byte("v"))
	wantValue(t, ctx, s2, "ns", "big", big)
	wantValue(t, ctx, s2, "ns", "migrated", []byte("yes"))
	wantAbsent(t, ctx, s2, "ns", "gone")
	wantAbsent(t, ctx, s2, "ns", "rolled-back")
	if err := s2.Migrate(ctx, set); err != nil {
		t.Fatalf("Migrate after reopen: %v", err)
	}
	if runs != 1 {
		t.Fatalf("migration ran %d times across a reopen, want 1", runs)
	}
	put(t, ctx, s2, "ns", "after", []byte("reopen"))
	s3 := reopen(t, h, ctx, s2)
	wantValue(t, ctx, s3, "ns", "after", []byte("reopen"))
}

// testConcurrentReaders holds an Update open and runs a View beside it. With the capability the
// View completes without waiting and does not see the open Update's write; without it the View
// waits (its deadline passes) and completes once the Update ends.
func testConcurrentReaders(t T, h Harness) {
	ctx, s := open(t, h)
	put(t, ctx, s, "ns", "k", []byte("old"))
	inUpdate, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(ctx, func(tx store.Tx) error {
			if err := tx.Put("ns", "k", []byte("new")); err != nil {
				return err
			}
			close(inUpdate)
			<-release
			return nil
		})
	}()
	select {
	case <-inUpdate:
	case err := <-done:
		t.Fatalf("Update ended early: %v", err)
	}
	wait := 200 * time.Millisecond
	if h.Caps.ConcurrentReaders {
		wait = 30 * time.Second
	}
	vctx, cancel := context.WithTimeout(ctx, wait)
	var seen []byte
	err := s.View(vctx, func(tx store.Tx) error {
		v, err := tx.Get("ns", "k")
		seen = v
		return err
	})
	cancel()
	close(release)
	if uerr := <-done; uerr != nil {
		t.Fatalf("Update: %v", uerr)
	}
	if h.Caps.ConcurrentReaders {
		if err != nil {
			t.Fatalf("View beside an open Update: %v (the driver declares concurrent readers)", err)
		}
		if string(seen) != "old" {
			t.Fatalf("View beside an open Update read %q, want the committed %q", seen, "old")
		}
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("View beside an open Update returned %v (read %q) without waiting, but the driver does not declare concurrent readers", err, seen)
	}
	wantValue(t, ctx, s, "ns", "k", []byte("new"))
}
