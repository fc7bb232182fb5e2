package postgres_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/pgtest"
	"github.com/dockyard/dockyard/store"
)

// increment adds one to the counter "n" of namespace "r".
func increment(tx store.Tx) error {
	v, err := tx.Get("r", "n")
	switch {
	case errors.Is(err, store.ErrNotFound):
		v = b64(0)
	case err != nil:
		return err
	}
	return tx.Put("r", "n", b64(u64(v)+1))
}

func readN(t *testing.T, s store.Store) uint64 {
	t.Helper()
	var n uint64
	err := s.View(t.Context(), func(tx store.Tx) error {
		v, err := tx.Get("r", "n")
		if err == nil {
			n = u64(v)
		}
		return err
	})
	if err != nil {
		t.Fatalf("read the counter: %v", err)
	}
	return n
}

// TestServerRestart stops the server (a crash-like immediate shutdown, then a fast one) under a
// client that keeps incrementing a counter: while the server is down, Updates, Views and Pings
// fail with errors that say what failed; once it is back they work again, on the same store
// value, and every Update that returned nil is in the counter (one whose commit outcome was
// reported unknown may or may not be).
func TestServerRestart(t *testing.T) {
	srv := pgtest.NewServer(t)
	s := openT(t, srv.DSN()+" dockyard_table=restart")
	ctx := t.Context()
	mustUpdate(t, s, increment)
	for _, immediate := range []bool{true, false} {
		mode := map[bool]string{true: "immediate", false: "fast"}[immediate]
		before := readN(t, s)
		results := make(chan error)
		stop := make(chan struct{})
		go func() { // the client: every outcome is sent, until stop
			defer close(results)
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := s.Update(ctx, increment)
				results <- err
				if err != nil {
					time.Sleep(10 * time.Millisecond)
				}
			}
		}()
		var ok, unknown int
		count := func(err error) {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, store.ErrCommitUnknown):
				unknown++
			}
		}
		// next waits for the next outcome, counting it.
		next := func() error {
			select {
			case err := <-results:
				count(err)
				return err
			case <-time.After(time.Minute):
				t.Fatalf("%s: no Update finished within a minute", mode)
				return nil
			}
		}
		for ok < 20 {
			if err := next(); err != nil {
				t.Fatalf("%s: Update before the restart: %v", mode, err)
			}
		}
		if err := srv.Stop(immediate); err != nil {
			t.Fatal(err)
		}
		var failures []error
		for len(failures) < 3 {
			if err := next(); err != nil {
				failures = append(failures, err)
			}
		}
		downErrs := []error{failures[0], failures[len(failures)-1]}
		downErrs = append(downErrs, s.View(ctx, func(tx store.Tx) error { _, err := tx.Get("r", "n"); return err }))
		downErrs = append(downErrs, s.Ping(ctx))
		for i, err := range downErrs {
			if err == nil {
				t.Fatalf("%s: operation %d succeeded while the server was down", mode, i)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "postgres: ") || !strings.Contains(msg, `table "restart"`) {
				t.Errorf("%s: error %q: want it to name the driver and the table", mode, msg)
			}
			t.Logf("%s, server down: %v", mode, err)
		}
		if err := srv.Resume(); err != nil {
			t.Fatal(err)
		}
		back := time.Now()
		okBefore := ok
		for ok < okBefore+20 {
			if err := next(); err != nil && time.Since(back) > 30*time.Second {
				t.Fatalf("%s: Updates still fail %v after the server came back: %v", mode, time.Since(back), err)
			}
		}
		close(stop)
		for err := range results {
			count(err)
		}
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("%s: Ping after the restart: %v", mode, err)
		}
		after := readN(t, s)
		if got := after - before; got < uint64(ok) || got > uint64(ok+unknown) {
			t.Fatalf("%s: the counter grew by %d; %d Updates succeeded and %d had an unknown outcome", mode, got, ok, unknown)
		}
		t.Logf("%s: %d Updates succeeded, %d failed with an unknown commit outcome, counter +%d", mode, ok, unknown, after-before)
	}
}
