package testproc

import (
	"errors"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// helperEnv makes the test binary, started by a test of this package, a helper process instead
// of running tests: "ignore-term" ignores SIGTERM; "sleep" keeps Go's default, which exits on
// it. Either says "ready" on its stdout and sleeps.
const helperEnv = "DOCKYARD_TESTPROC_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		if mode == "ignore-term" {
			signal.Ignore(syscall.SIGTERM)
		}
		os.Stdout.WriteString("ready\n")
		time.Sleep(2 * time.Minute)
		os.Exit(3)
	}
	os.Exit(m.Run())
}

// TestShared: start runs once, for all the Gets; Close stops what it started, once, and the Gets
// after it return its error without starting anything.
func TestShared(t *testing.T) {
	var starts, stops atomic.Int32
	stopErr := errors.New("stop failed")
	start := func() (string, func() error, error) {
		starts.Add(1)
		return "dsn", func() error { stops.Add(1); return stopErr }, nil
	}
	var s Shared[string]
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if v, err := s.Get(start); v != "dsn" || err != nil {
				t.Errorf("Get = %q, %v", v, err)
			}
		})
	}
	wg.Wait()
	after := errors.New("after Shutdown")
	if err := s.Close(after); err != stopErr {
		t.Fatalf("Close = %v, want the stop's error", err)
	}
	if err := s.Close(after); err != nil {
		t.Fatalf("second Close = %v, want nil: nothing left to stop", err)
	}
	if v, err := s.Get(start); v != "" || err != after {
		t.Fatalf("Get after Close = %q, %v; want \"\", %v", v, err, after)
	}
	if starts.Load() != 1 || stops.Load() != 1 {
		t.Fatalf("%d starts, %d stops; want one of each", starts.Load(), stops.Load())
	}

	var never Shared[int]
	if err := never.Close(after); err != nil {
		t.Fatal(err)
	}
	if _, err := never.Get(func() (int, func() error, error) { panic("started after Close") }); err != after {
		t.Fatalf("Get after Close without a Get before = %v, want %v", err, after)
	}
}
