package buntdb_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/crashtest"

	"github.com/dockyard/dockyard/drivers/buntdb"
	"github.com/dockyard/dockyard/store"
)

// crashEnv names the data directory the crash child writes to. Unset, TestCrashChild does
// nothing.
const crashEnv = "DOCKYARD_BUNTDB_CRASH_CHILD"

// crashChildLifetime bounds a crash child that nobody kills, so an orphan cannot run forever.
const crashChildLifetime = 60 * time.Second

// crashCompactMin is small, so that the child compacts the file now and then and some kills
// land during a compaction.
const crashCompactMin = 64 << 10

func seqKey(ns string, seq uint64) string { return fmt.Sprintf("%s/%010d", ns, seq) }

// payload is the value of m/<seq>: its length and bytes vary with seq, and every seventh is
// several pages long, so a transaction's write often spans page boundaries and a kill can tear
// it.
func payload(seq uint64) []byte {
	n := 16 + int(seq*37%400)
	if seq%7 == 0 {
		n = 8<<10 + int(seq*131%(12<<10))
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(seq>>(8*(i%8))) ^ byte(i)
	}
	return b
}

// TestCrashChild is the child process of TestCrash: it commits Updates in a loop, each
// writing n/<seq>, m/<seq> and counter, and acknowledges each on stdout once Update returned
// nil, until it is killed. Without crashEnv set it returns at once.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		return
	}
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "crash child: "+format+"\n", args...)
		os.Exit(2)
	}
	ctx := context.Background()
	s, err := buntdb.Open(ctx, dir, buntdb.WithCompactMinSize(crashCompactMin))
	if err != nil {
		fail("open: %v", err)
	}
	seq, err := readCounter(ctx, s)
	if err != nil {
		fail("read counter: %v", err)
	}
	for deadline := time.Now().Add(crashChildLifetime); time.Now().Before(deadline); {
		seq++
		err := s.Update(ctx, func(tx store.Tx) error {
			if err := tx.Put("crash", seqKey("n", seq), []byte(strconv.FormatUint(seq, 10))); err != nil {
				return err
			}
			if err := tx.Put("crash", seqKey("m", seq), payload(seq)); err != nil {
				return err
			}
			return tx.Put("crash", "counter", []byte(strconv.FormatUint(seq, 10)))
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

func readCounter(ctx context.Context, s store.Store) (uint64, error) {
	var n uint64
	err := s.View(ctx, func(tx store.Tx) error {
		v, err := tx.Get("crash", "counter")
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		n, err = strconv.ParseUint(string(v), 10, 64)
		return err
	})
	return n, err
}

// TestCrash kills a child process that is committing transactions at a random moment, reopens
// the store and checks every acknowledged transaction is there in full and no transaction is
// there in part; 20 times over the same directory, so each round also recovers the last one's.
func TestCrash(t *testing.T) {
	rounds := 20
	if testing.Short() {
		rounds = 5
	}
	dir := t.TempDir()
	crashtest.Run(t, crashtest.Config{
		Env: crashEnv, Target: dir, Rounds: rounds,
		Verify: func(t *testing.T) uint64 { return verifyCrash(t, dir) },
		Note: func() string {
			if _, err := os.Stat(filepath.Join(dir, buntdb.FileName+".compact")); err == nil {
				return " (during a compaction)"
			}
			return ""
		},
	})
}

// verifyCrash opens the store in dir and checks it holds exactly the transactions 1..counter,
// each with all its keys, and nothing of any later one. It returns counter.
func verifyCrash(t *testing.T, dir string) uint64 {
	t.Helper()
	ctx := t.Context()
	s, err := buntdb.Open(ctx, dir, buntdb.WithCompactMinSize(-1))
	if err != nil {
		t.Fatalf("reopen after the crash: %v", err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}()
	counter, err := readCounter(ctx, s)
	if err != nil {
		t.Fatalf("read counter after the crash: %v", err)
	}
	err = s.View(ctx, func(tx store.Tx) error {
		ns, err := tx.Scan("crash", "n/")
		if err != nil {
			return err
		}
		ms, err := tx.Scan("crash", "m/")
		if err != nil {
			return err
		}
		if uint64(len(ns)) != counter || uint64(len(ms)) != counter {
			return fmt.Errorf("counter is %d but the store holds %d n/ keys and %d m/ keys", counter, len(ns), len(ms))
		}
		for i := range ns {
			seq := uint64(i) + 1
			if ns[i].Key != seqKey("n", seq) || string(ns[i].Value) != strconv.FormatUint(seq, 10) {
				return fmt.Errorf("n/ entry %d is %q = %q, want %q = %d", i, ns[i].Key, ns[i].Value, seqKey("n", seq), seq)
			}
			if ms[i].Key != seqKey("m", seq) || !bytes.Equal(ms[i].Value, payload(seq)) {
				return fmt.Errorf("m/ entry %d is %q (%d bytes), want %q with its payload", i, ms[i].Key, len(ms[i].Value), seqKey("m", seq))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("after the crash: %v", err)
	}
	return counter
}
