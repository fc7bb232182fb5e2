// Package crashtest is the parent side of the SIGKILL durability tests of durable drivers.
//
// A driver's test binary holds a child test, TestCrashChild, that calls Child: when an
// environment variable names a store, it commits numbered transactions in a loop (workload.go)
// and prints "ack N" after each Update returns. Run starts that child, kills it with SIGKILL at
// a random moment after its first acknowledgement, reopens the store, checks it holds exactly
// the transactions 1..counter, each in full, and checks the promise: every acknowledged
// transaction survived, at most the one in flight beyond it did, and the next child starts one
// past it. A durable driver gets its crash test in a dozen lines:
//
//	cfg := crashtest.Config{Env: "DOCKYARD_KV_CRASH_CHILD", Open: func(ctx context.Context, target string) (store.Store, error) {
//		return kv.Open(ctx, target)
//	}}
//	func TestCrashChild(t *testing.T) { crashtest.Child(t, cfg) }
//	func TestCrash(t *testing.T) { c := cfg; c.Target, c.Rounds = t.TempDir(), 20; crashtest.Run(t, c) }
package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockyard/dockyard/store"
)

// Config describes one driver's crash test.
type Config struct {
	// Env is the environment variable through which the child learns Target.
	Env string
	// Child is the -test.run pattern that selects, in the test binary run again, the test that
	// calls Child; empty means ^TestCrashChild$. pdk/pdktest sets it to the very test that
	// calls Run, which then calls Child itself when Env is set, so its users write one test.
	Child string
	// Target is the store the child writes to (a file or a directory).
	Target string
	// Rounds is how many kill/verify rounds to run over the same store.
	Rounds int
	// Open opens the store at Target: in the child, and in the parent after each kill.
	Open func(ctx context.Context, target string) (store.Store, error)
	// Reopen, if set, is what the parent opens the store with after a kill instead of Open.
	Reopen func(ctx context.Context, target string) (store.Store, error)
	// Payload is the value of m/<seq>; nil is Payload.
	Payload func(seq uint64) []byte
	// Recovered, if set, is called with the store reopened after a kill, before it is checked
	// (postgres checks another process gets the write lock promptly).
	Recovered func(t *testing.T, s store.Store)
	// Note, if set, is added to each round's log line (e.g. "during a compaction").
	Note func() string
}

// Run runs cfg.Rounds rounds of start, kill and verify.
func Run(t *testing.T, cfg Config) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("os.Executable: %v", err)
	}
	var committed uint64 // the counter found by the last verification
	for round := range cfg.Rounds {
		delay := time.Duration(20+rand.IntN(181)) * time.Millisecond
		acked, first := child(t, exe, cfg, delay)
		note := ""
		if cfg.Note != nil {
			note = cfg.Note()
		}
		counter := verify(t, cfg)
		t.Logf("round %d: child started at %d, killed %v after its first ack%s, last ack %d, committed %d",
			round, first, delay, note, acked, counter)
		if first != committed+1 {
			t.Fatalf("round %d: the child's first transaction was %d, want %d (one past the last committed)", round, first, committed+1)
		}
		if counter < acked {
			t.Fatalf("round %d: transaction %d was acknowledged but the store's counter is %d after the crash", round, acked, counter)
		}
		if counter > acked+1 {
			t.Fatalf("round %d: counter %d is more than one past the last ack %d", round, counter, acked)
		}
		committed = counter
	}
}

// child runs TestCrashChild on cfg.Target, kills it delay after its first ack and returns the
// last and first sequence numbers it acknowledged.
func child(t *testing.T, exe string, cfg Config, delay time.Duration) (last, first uint64) {
	t.Helper()
	run := cfg.Child
	if run == "" {
		run = "^TestCrashChild$"
	}
	cmd := exec.Command(exe, "-test.run="+run, "-test.count=1")
	cmd.Env = append(os.Environ(), cfg.Env+"="+cfg.Target)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start crash child: %v", err)
	}
	var lastAck, firstAck atomic.Uint64
	gotFirst, eof := make(chan struct{}), make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			rest, ok := strings.CutPrefix(sc.Text(), "ack ")
			if !ok {
				continue
			}
			n, err := strconv.ParseUint(rest, 10, 64)
			if err != nil {
				continue
			}
			if firstAck.Load() == 0 {
				firstAck.Store(n)
				close(gotFirst)
			}
			lastAck.Store(n)
		}
		eof <- sc.Err()
	}()
	select {
	case <-gotFirst:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
	}
	if firstAck.Load() != 0 {
		time.Sleep(delay)
		_ = cmd.Process.Kill()
	}
	// Every ack written before the kill is read before the pipe reports EOF.
	readErr := <-eof
	waitErr := cmd.Wait()
	if firstAck.Load() == 0 {
		t.Fatalf("crash child acknowledged nothing (exit: %v)\nstderr:\n%s", waitErr, stderr.String())
	}
	// A child that failed, or that the race detector flagged, says so on stderr; a killed one
	// never exits cleanly.
	if waitErr == nil || stderr.Len() > 0 {
		t.Fatalf("crash child was not killed cleanly (exit: %v)\nstderr:\n%s", waitErr, stderr.String())
	}
	if readErr != nil {
		t.Fatalf("reading the crash child's acks: %v", readErr)
	}
	return lastAck.Load(), firstAck.Load()
}
