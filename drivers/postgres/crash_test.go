package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/dockyard/dockyard/drivers/postgres"
	"github.com/dockyard/dockyard/internal/crashtest"
	"github.com/dockyard/dockyard/store"
)

// crashEnv names the DSN the crash child writes to. Unset, TestCrashChild does nothing.
const crashEnv = "DOCKYARD_POSTGRES_CRASH_CHILD"

// crashChildLifetime bounds a crash child that nobody kills, so an orphan cannot run forever.
const crashChildLifetime = 60 * time.Second

// lockPromptly is how soon after a client was killed another process must get the write lock.
const lockPromptly = 5 * time.Second

func seqKey(p string, seq uint64) string { return fmt.Sprintf("%s/%010d", p, seq) }

// TestCrashChild is the child process of TestKillClient: it commits Updates in a loop, each
// reading the counter and writing n/<seq>, m/<seq> and the counter, and acknowledges each on
// stdout once Update returned nil, until it is killed.
func TestCrashChild(t *testing.T) {
	dsn := os.Getenv(crashEnv)
	if dsn == "" {
		return
	}
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "crash child: "+format+"\n", args...)
		os.Exit(2)
	}
	ctx := context.Background()
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		fail("open: %v", err)
	}
	for deadline := time.Now().Add(crashChildLifetime); time.Now().Before(deadline); {
		var seq uint64
		err := s.Update(ctx, func(tx store.Tx) error {
			n, err := counterIn(tx)
			if err != nil {
				return err
			}
			seq = n + 1
			v := []byte(strconv.FormatUint(seq, 10))
			for _, k := range []string{seqKey("n", seq), seqKey("m", seq), "counter"} {
				if err := tx.Put("crash", k, v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			fail("update %d: %v", seq, err)
		}
		// os.Stdout is unbuffered: the ack is in the pipe when Write returns.
		if _, err := fmt.Fprintf(os.Stdout, "ack %d\n", seq); err != nil {
			fail("ack %d: %v", seq, err)
		}
	}
	fail("not killed within %v", crashChildLifetime)
}

func counterIn(tx store.Tx) (uint64, error) {
	v, err := tx.Get("crash", "counter")
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(string(v), 10, 64)
}

// TestKillClient kills (SIGKILL) a client process in the middle of its Updates, 10 times: every
// acknowledged Update is there in full, none is there in part, and the dead client holds no
// lock: this process gets the write lock at once, and the next child starts where the last one
// stopped.
func TestKillClient(t *testing.T) {
	rounds := 10
	if testing.Short() {
		rounds = 3
	}
	dsn := dsnWithTable(t, "crash")
	crashtest.Run(t, crashtest.Config{
		Env: crashEnv, Target: dsn, Rounds: rounds,
		Verify: func(t *testing.T) uint64 { return verifyCrash(t, dsn) },
	})
}

// verifyCrash takes the write lock within lockPromptly, checks the store holds exactly the
// transactions 1..counter, each in full, and returns counter.
func verifyCrash(t *testing.T, dsn string) uint64 {
	t.Helper()
	s := openT(t, dsn)
	defer s.Close()
	ctx, cancel := context.WithTimeout(t.Context(), lockPromptly)
	start := time.Now()
	var counter uint64
	err := s.Update(ctx, func(tx store.Tx) error {
		var err error
		counter, err = counterIn(tx)
		return err
	})
	cancel()
	if err != nil {
		t.Fatalf("taking the write lock after the client was killed: %v (after %v)", err, time.Since(start))
	}
	t.Logf("write lock taken %v after the kill", time.Since(start).Round(time.Millisecond))
	err = s.View(t.Context(), func(tx store.Tx) error {
		for _, p := range []string{"n/", "m/"} {
			kvs, err := tx.Scan("crash", p)
			if err != nil {
				return err
			}
			if uint64(len(kvs)) != counter {
				return fmt.Errorf("counter is %d but the store holds %d %s keys", counter, len(kvs), p)
			}
			for i, kv := range kvs {
				seq := uint64(i) + 1
				if kv.Key != seqKey(p[:1], seq) || string(kv.Value) != strconv.FormatUint(seq, 10) {
					return fmt.Errorf("entry %d is %q = %q, want %q = %d", i, kv.Key, kv.Value, seqKey(p[:1], seq), seq)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("after the kill: %v", err)
	}
	return counter
}

func init() { childRoles["holdlock"] = holdLock }

// holdLock is a child that takes the write lock, writes, says "holding" and waits to be killed.
func holdLock(dsn, _ string, out io.Writer) error {
	ctx := context.Background()
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
	c := startChildren(t, 1, "holdlock", dsn, func(int) string { return "" })[0]
	c.start()
	select {
	case l, ok := <-c.lines:
		if !ok || l != "holding" {
			c.wait()
			t.Fatalf("the child said %q (exit %v), want holding; stderr:\n%s", l, c.cmd.ProcessState, c.stderr.String())
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
	_ = c.cmd.Process.Kill()
	c.wait()
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
