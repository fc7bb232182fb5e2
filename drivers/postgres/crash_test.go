package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/dockyard/dockyard/drivers/postgres"
	"github.com/dockyard/dockyard/internal/crashtest"
	"github.com/dockyard/dockyard/internal/multiproc"
	"github.com/dockyard/dockyard/store"
)

// crashChildLifetime bounds a child that nobody kills, so an orphan cannot run forever.
const crashChildLifetime = 60 * time.Second

// lockPromptly is how soon after a client was killed another process must get the write lock.
const lockPromptly = 5 * time.Second

// crashConfig is the crash test of a DSN; crashtest.Config.Env names the DSN the child writes to.
var crashConfig = crashtest.Config{
	Env:  "DOCKYARD_POSTGRES_CRASH_CHILD",
	Open: func(ctx context.Context, dsn string) (store.Store, error) { return postgres.Open(ctx, dsn) },
	// The dead client holds no lock: this process gets the write lock within lockPromptly.
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

// TestKillClient kills (SIGKILL) a client process in the middle of its Updates, 10 times: every
// acknowledged Update is there in full, none is there in part, and the dead client holds no
// lock: this process gets the write lock at once, and the next child starts where the last one
// stopped.
func TestKillClient(t *testing.T) {
	cfg := crashConfig
	cfg.Target, cfg.Rounds = dsnWithTable(t, "crash"), 10
	if testing.Short() {
		cfg.Rounds = 3
	}
	crashtest.Run(t, cfg)
}

func init() { multiproc.Register("holdlock", holdLock) }

// holdLock is a child that takes the write lock, writes, says "holding" and waits to be killed.
func holdLock(ctx context.Context, dsn, _ string, out io.Writer) error {
	s, err := postgres.Open(ctx, dsn)
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
		if _, err := tx.Scan("ns", ""); err != nil { // sends the Put
			return err
		}
		fmt.Fprintln(out, "holding")
		time.Sleep(crashChildLifetime)
		return errors.New("not killed")
	})
}

// TestKillLockHolder kills a client while it holds the write lock, in the middle of an Update
// that has written: another process gets the lock at once, and the write is not there.
func TestKillLockHolder(t *testing.T) {
	dsn := dsnWithTable(t, "holder")
	s := openT(t, dsn)
	mustUpdate(t, s, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("committed")) })
	c := multiproc.Start(t, 1, "holdlock", dsn, nil)[0]
	c.Go()
	select {
	case l, ok := <-c.Lines:
		if !ok || l != "holding" {
			c.Kill()
			t.Fatalf("the child said %q, want holding: %v", l, c.Err())
		}
	case <-time.After(time.Minute):
		t.Fatalf("the child did not take the lock within a minute")
	}
	// While the child lives, the lock is held: an Update here waits.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
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
