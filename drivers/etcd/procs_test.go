package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/dockyard/dockyard/drivers/etcd"
	"github.com/dockyard/dockyard/internal/crashtest"
	"github.com/dockyard/dockyard/internal/etcdtest"
	"github.com/dockyard/dockyard/internal/multiproc"
	"github.com/dockyard/dockyard/store"
)

// TestChild is the child process of the multi-process tests (multiproc). Without a role in
// its environment it does nothing.
func TestChild(t *testing.T) { multiproc.Child(t) }

// testLockTTL is the lock TTL of the stores of the kill tests, and lockPromptly how soon after
// a client was killed another process must get the write lock: the TTL, and time for etcd to
// notice the lease expired (it checks every 500 ms) and for the waiter to hear of it.
const (
	testLockTTL  = 2 * time.Second
	lockPromptly = testLockTTL + 3*time.Second
)

func openEtcd(ctx context.Context, dsn string) (store.Store, error) {
	return etcd.Open(ctx, dsn, etcd.WithLockTTL(testLockTTL))
}

// workload is the multi-process workload of TestProcesses: 4 processes of 200 iterations.
var workload = multiproc.Workload{
	Procs: 4,
	Ops:   200,
	Open:  openEtcd,
	Note:  "serialized by the lease-backed lock",
}

func init() {
	workload.Register("workload")
	multiproc.Register("holdlock", holdLock)
}

// TestProcesses runs the workload in 4 processes on one store of the shared 3-member cluster:
// no increment is lost, and the bank's total never changes, whichever View of whichever
// process looks.
func TestProcesses(t *testing.T) {
	dsn := etcdtest.DSN(t)
	s := openT(t, dsn)
	workload.Seed(t, s)
	workload.Run(t, s, dsn, 5*time.Minute)
}

// crashConfig is the crash test of a DSN; crashtest.Config.Env names the DSN the child writes to.
var crashConfig = crashtest.Config{
	Env:  "DOCKYARD_ETCD_CRASH_CHILD",
	Open: openEtcd,
	// The dead client's lock goes with its lease: this process gets the lock within
	// lockPromptly.
	Recovered: func(t *testing.T, s store.Store) {
		ctx, cancel := context.WithTimeout(t.Context(), lockPromptly)
		defer cancel()
		start := time.Now()
		err := s.Update(ctx, func(tx store.Tx) error { _, err := tx.Get("crash", "counter"); return ignoreNotFound(err) })
		if err != nil {
			t.Fatalf("taking the write lock after the client was killed: %v (after %v)", err, time.Since(start))
		}
		t.Logf("write lock taken %v after the kill", time.Since(start).Round(time.Millisecond))
	},
}

func ignoreNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// TestCrashChild is the child process of TestKillClient. Without its variable set it returns
// at once.
func TestCrashChild(t *testing.T) { crashtest.Child(t, crashConfig) }

// TestKillClient kills (SIGKILL) a client process in the middle of its Updates, 6 times: every
// acknowledged Update is there in full, none is there in part, the lock is retaken after the
// lease's TTL, and the next child starts where the last one stopped.
func TestKillClient(t *testing.T) {
	cfg := crashConfig
	cfg.Target, cfg.Rounds = etcdtest.DSN(t), 6
	if testing.Short() {
		cfg.Rounds = 2
	}
	crashtest.Run(t, cfg)
}

// holdLock is a child that takes the write lock, buffers a write, says "holding" and waits to
// be killed.
func holdLock(ctx context.Context, dsn, _ string, out io.Writer) error {
	s, err := openEtcd(ctx, dsn)
	if err != nil {
		return err
	}
	return s.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Get("ns", "k"); err != nil { // the lock is taken with the first read
			return err
		}
		if err := tx.Put("ns", "k", []byte("never committed")); err != nil {
			return err
		}
		fmt.Fprintln(out, "holding")
		time.Sleep(time.Minute)
		return errors.New("not killed")
	})
}

// TestKillLockHolder kills a client while it holds the write lock, in the middle of an Update
// that has written: until then an Update here waits; after it, the lock is retaken within the
// lease's TTL, and the write is not there.
func TestKillLockHolder(t *testing.T) {
	dsn := etcdtest.DSN(t)
	s := openT(t, dsn, etcd.WithLockTTL(testLockTTL))
	mustUpdate(t, s, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("committed")) })
	c := multiproc.Start(t, 1, "holdlock", dsn, nil)[0]
	c.Go()
	select {
	case l, ok := <-c.Lines:
		if !ok || l != "holding" {
			c.Kill()
			t.Fatalf("the child said %q, want holding; stderr:\n%s", l, c.Stderr())
		}
	case <-time.After(time.Minute):
		t.Fatalf("the child did not take the lock within a minute")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	err := s.Update(ctx, func(tx store.Tx) error { _, err := tx.Get("ns", "k"); return err })
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("an Update beside the lock holder returned %v, want it to wait past its deadline", err)
	}
	c.Kill()
	ctx, cancel = context.WithTimeout(t.Context(), lockPromptly)
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

// mustUpdate runs fn in an Update of s, failing t on error.
func mustUpdate(t testing.TB, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}
