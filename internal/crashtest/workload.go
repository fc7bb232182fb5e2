package crashtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/dockyard/dockyard/store"
)

// The workload: transaction <seq> writes, in namespace "crash", n/<seq> = seq in decimal,
// m/<seq> = Payload(seq) and counter = seq, after reading counter (so it is seq-1 + 1 even
// when other processes share the store).
const ns = "crash"

// childLifetime bounds a crash child that nobody kills, so an orphan cannot run forever.
const childLifetime = 60 * time.Second

func seqKey(p string, seq uint64) string { return fmt.Sprintf("%s/%010d", p, seq) }

// Payload is the default value of m/<seq>: its length and bytes vary with seq, and every
// seventh is several pages long, so transactions span different numbers of pages and a kill
// can tear one.
func Payload(seq uint64) []byte {
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

func (cfg Config) payload(seq uint64) []byte {
	if cfg.Payload != nil {
		return cfg.Payload(seq)
	}
	return Payload(seq)
}

// Child is the body of the driver's TestCrashChild: with cfg.Env set to a store, it commits the
// workload's transactions in a loop and acknowledges each on stdout once Update returned nil,
// until it is killed. Without cfg.Env set it returns at once.
func Child(t *testing.T, cfg Config) {
	target := os.Getenv(cfg.Env)
	if target == "" {
		return
	}
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "crash child: "+format+"\n", args...)
		os.Exit(2)
	}
	ctx := context.Background()
	s, err := cfg.Open(ctx, target)
	if err != nil {
		fail("open: %v", err)
	}
	for deadline := time.Now().Add(childLifetime); time.Now().Before(deadline); {
		var seq uint64
		err := s.Update(ctx, func(tx store.Tx) error {
			n, err := counterIn(tx)
			if err != nil {
				return err
			}
			seq = n + 1
			if err := tx.Put(ns, seqKey("n", seq), []byte(strconv.FormatUint(seq, 10))); err != nil {
				return err
			}
			if err := tx.Put(ns, seqKey("m", seq), cfg.payload(seq)); err != nil {
				return err
			}
			return tx.Put(ns, "counter", []byte(strconv.FormatUint(seq, 10)))
		})
		if err != nil {
			fail("update %d: %v", seq, err)
		}
		// os.Stdout is unbuffered: the ack is in the pipe when Write returns.
		if _, err := fmt.Fprintf(os.Stdout, "ack %d\n", seq); err != nil {
			fail("ack %d: %v", seq, err)
		}
	}
	fail("not killed within %v", childLifetime)
}

func counterIn(tx store.Tx) (uint64, error) {
	v, err := tx.Get(ns, "counter")
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(string(v), 10, 64)
}

// verify reopens the store and checks it holds exactly the transactions 1..counter, each with
// all its keys, and nothing of any later one. It returns counter.
func verify(t *testing.T, cfg Config) uint64 {
	t.Helper()
	ctx := t.Context()
	reopen := cfg.Open
	if cfg.Reopen != nil {
		reopen = cfg.Reopen
	}
	s, err := reopen(ctx, cfg.Target)
	if err != nil {
		t.Fatalf("reopen after the crash: %v", err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}()
	if cfg.Recovered != nil {
		cfg.Recovered(t, s)
	}
	var counter uint64
	err = s.View(ctx, func(tx store.Tx) error {
		if counter, err = counterIn(tx); err != nil {
			return fmt.Errorf("read counter: %w", err)
		}
		nkv, err := tx.Scan(ns, "n/")
		if err != nil {
			return err
		}
		mkv, err := tx.Scan(ns, "m/")
		if err != nil {
			return err
		}
		if uint64(len(nkv)) != counter || uint64(len(mkv)) != counter {
			return fmt.Errorf("counter is %d but the store holds %d n/ keys and %d m/ keys", counter, len(nkv), len(mkv))
		}
		for i := range nkv {
			seq := uint64(i) + 1
			if nkv[i].Key != seqKey("n", seq) || string(nkv[i].Value) != strconv.FormatUint(seq, 10) {
				return fmt.Errorf("n/ entry %d is %q = %q, want %q = %d", i, nkv[i].Key, nkv[i].Value, seqKey("n", seq), seq)
			}
			if mkv[i].Key != seqKey("m", seq) || !bytes.Equal(mkv[i].Value, cfg.payload(seq)) {
				return fmt.Errorf("m/ entry %d is %q (%d bytes), want %q with its payload", i, mkv[i].Key, len(mkv[i].Value), seqKey("m", seq))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("after the crash: %v", err)
	}
	return counter
}
