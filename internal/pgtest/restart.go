package pgtest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/store"
)

// Increment adds one to a counter, key "n" of namespace "r" (8 bytes, big-endian), for the
// restart scenario: each Update that returned nil is one more.
func Increment(tx store.Tx) error {
	v, err := tx.Get("r", "n")
	var n uint64
	switch {
	case err == nil && len(v) == 8:
		n = binary.BigEndian.Uint64(v)
	case err == nil:
		return fmt.Errorf("counter of %d bytes", len(v))
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	return tx.Put("r", "n", binary.BigEndian.AppendUint64(nil, n+1))
}

// Counter reads Increment's counter.
func Counter(t testing.TB, s store.Store) uint64 {
	t.Helper()
	var n uint64
	err := s.View(t.Context(), func(tx store.Tx) error {
		v, err := tx.Get("r", "n")
		if err == nil && len(v) == 8 {
			n = binary.BigEndian.Uint64(v)
		} else if err == nil {
			err = fmt.Errorf("counter of %d bytes", len(v))
		}
		return err
	})
	if err != nil {
		t.Fatalf("read the counter: %v", err)
	}
	return n
}

// RestartUnderWriter stops srv (a crash-like immediate shutdown, then a fast one) under a
// client that keeps applying Increment to s, a store of a PostgreSQL driver in any form on srv
// whose table is table: while the server is down, Updates, a View and a Ping fail with errors
// that name the driver ("postgres: ", at the start when atStart: an in-process driver's own
// error, not one a transport wrapped) and the table; once it is back they work again, on the
// same store, and the counter holds every Update that returned nil and at most those whose
// outcome was store.ErrCommitUnknown besides. The in-process driver and its wasm form make the
// same promise, so they run the same scenario.
func RestartUnderWriter(t *testing.T, srv *Server, s store.Store, table string, atStart bool) {
	t.Helper()
	names := strings.Contains
	if atStart {
		names = strings.HasPrefix
	}
	ctx := t.Context()
	if err := s.Update(ctx, Increment); err != nil {
		t.Fatal(err)
	}
	for _, immediate := range []bool{true, false} {
		mode := map[bool]string{true: "immediate", false: "fast"}[immediate]
		before := Counter(t, s)
		results, stop := make(chan error), make(chan struct{})
		go func() { // the client: every outcome is sent, until stop
			defer close(results)
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := s.Update(ctx, Increment)
				results <- err
				if err != nil {
					time.Sleep(10 * time.Millisecond)
				}
			}
		}()
		var ok, unknown int
		next := func() error { // the next outcome, counted
			select {
			case err := <-results:
				switch {
				case err == nil:
					ok++
				case errors.Is(err, store.ErrCommitUnknown):
					unknown++
				}
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
		var down []error
		for len(down) < 3 {
			if err := next(); err != nil {
				down = append(down, err)
			}
		}
		down = append(down,
			s.View(ctx, func(tx store.Tx) error { _, err := tx.Get("r", "n"); return err }),
			s.Ping(ctx))
		for i, err := range down {
			if err == nil {
				t.Fatalf("%s: operation %d succeeded while the server was down", mode, i)
			}
			if msg := err.Error(); !names(msg, "postgres: ") || !strings.Contains(msg, fmt.Sprintf("table %q", table)) {
				t.Errorf("%s: error %q: want it to name the driver and the table", mode, msg)
			}
		}
		t.Logf("%s, server down: %v", mode, down[0])
		if err := srv.Resume(); err != nil {
			t.Fatal(err)
		}
		back, okBefore := time.Now(), ok
		for ok < okBefore+20 {
			if err := next(); err != nil && time.Since(back) > 30*time.Second {
				t.Fatalf("%s: Updates still fail %v after the server came back: %v", mode, time.Since(back), err)
			}
		}
		close(stop)
		for err := range results {
			if err == nil {
				ok++
			} else if errors.Is(err, store.ErrCommitUnknown) {
				unknown++
			}
		}
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("%s: Ping after the restart: %v", mode, err)
		}
		after := Counter(t, s)
		if got := after - before; got < uint64(ok) || got > uint64(ok+unknown) {
			t.Fatalf("%s: the counter grew by %d; %d Updates succeeded and %d had an unknown outcome", mode, got, ok, unknown)
		}
		t.Logf("%s: %d Updates succeeded, %d had an unknown commit outcome, counter +%d", mode, ok, unknown, after-before)
	}
}
