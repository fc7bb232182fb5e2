package multiproc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/dockyard/dockyard/store"
)

// LockHolder is the test of a server-backed driver whose writers, in every process, queue on
// one lock: a child process takes the lock, in an Update that has written, and is killed with
// SIGKILL while it holds it. Until then an Update of this process waits; after it, it gets
// the lock within Promptly, and the child's write is not there.
//
// Register the role from an init function (as Workload.Register), then call Run from a test.
type LockHolder struct {
	// Open opens the store target names, in the child.
	Open func(ctx context.Context, target string) (store.Store, error)
	// Promptly bounds how long after the kill this process may wait for the lock: at once for
	// a lock the server releases with the connection, the lease's TTL and some for a leased one.
	Promptly time.Duration
	role     string
}

// childLifetime bounds a lock-holding child that nobody kills, so an orphan cannot run forever.
const childLifetime = time.Minute

// Register registers the child's role under role.
func (h *LockHolder) Register(role string) {
	h.role = role
	open := h.Open
	Register(role, func(ctx context.Context, target, _ string, out io.Writer) error {
		s, err := open(ctx, target)
		if err != nil {
			return err
		}
		return s.Update(ctx, func(tx store.Tx) error {
			if _, err := tx.Get("ns", "k"); err != nil { // drivers take the lock with the first read
				return err
			}
			if err := tx.Put("ns", "k", []byte("never committed")); err != nil {
				return err
			}
			if _, err := tx.Scan("ns", ""); err != nil { // a driver that buffers writes sends them here
				return err
			}
			fmt.Fprintln(out, "holding")
			time.Sleep(childLifetime)
			return errors.New("not killed")
		})
	})
}

// Run runs the test on s, a store of this process on target.
func (h LockHolder) Run(t *testing.T, s store.Store, target string) {
	t.Helper()
	if h.role == "" {
		t.Fatal("multiproc: LockHolder.Run before Register")
	}
	if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.Put("ns", "k", []byte("committed")) }); err != nil {
		t.Fatal(err)
	}
	c := Start(t, 1, h.role, target, nil)[0]
	c.Go()
	select {
	case l, ok := <-c.Lines:
		if !ok || l != "holding" {
			c.Kill()
			t.Fatalf("the child said %q, want holding: %v", l, c.Err())
		}
	case <-time.After(time.Minute):
		c.Kill()
		t.Fatalf("the child did not take the lock within a minute: %s", c.Stderr())
	}
	// While the child lives, the lock is held: an Update here waits.
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	err := s.Update(ctx, func(tx store.Tx) error { _, err := tx.Get("ns", "k"); return err })
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("an Update beside the lock holder returned %v, want it to wait past its deadline", err)
	}
	c.Kill()
	ctx, cancel = context.WithTimeout(t.Context(), h.Promptly)
	defer cancel()
	start := time.Now()
	err = s.Update(ctx, func(tx store.Tx) error {
		v, err := tx.Get("ns", "k")
		if err == nil && string(v) != "committed" {
			err = fmt.Errorf("k = %q after the holder was killed, want committed", v)
		}
		return err
	})
	if err != nil {
		t.Fatalf("Update after the holder was killed: %v (after %v)", err, time.Since(start))
	}
	t.Logf("write lock taken %v after the holder was killed", time.Since(start).Round(time.Millisecond))
}
