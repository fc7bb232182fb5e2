package storetest

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// Result is the outcome of one case run by Check.
type Result struct {
	Name     string
	Passed   bool
	Log      []string // every Logf, Errorf and Fatalf message, in order
	Duration time.Duration
}

// Check runs every case against h outside go test, with its own T, and returns one Result per
// case. A case that panics fails with the panic and its stack; a case still running after
// timeout fails and is abandoned. report, if non-nil, is called as each case finishes. This is
// what the dockyard conform command runs.
func Check(h Harness, timeout time.Duration, report func(Result)) []Result {
	var results []Result
	for _, c := range Cases() {
		r := runCase(c, h, timeout)
		if report != nil {
			report(r)
		}
		results = append(results, r)
	}
	return results
}

func runCase(c Case, h Harness, timeout time.Duration) Result {
	t := &caseT{name: c.Name}
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer t.cleanup()
		defer func() {
			if r := recover(); r != nil {
				t.fail(fmt.Sprintf("panic: %v\n%s", r, debug.Stack()))
			}
		}()
		if h.Open == nil {
			t.Fatalf("storetest: Harness.Open is nil")
		}
		c.Run(t, h)
	}()
	select {
	case <-done:
	case <-time.After(timeout):
		t.fail(fmt.Sprintf("case did not finish within %v", timeout))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return Result{Name: c.Name, Passed: !t.failed, Log: append([]string(nil), t.log...), Duration: time.Since(start)}
}

// caseT is the T that Check gives a case. It is safe for use by several goroutines.
type caseT struct {
	name     string
	mu       sync.Mutex
	failed   bool
	log      []string
	cleanups []func()
}

func (t *caseT) Helper()      {}
func (t *caseT) Name() string { return t.name }

func (t *caseT) Logf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.log = append(t.log, fmt.Sprintf(format, args...))
}

func (t *caseT) fail(msg string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failed = true
	t.log = append(t.log, msg)
}

func (t *caseT) Errorf(format string, args ...any) { t.fail(fmt.Sprintf(format, args...)) }

// Fatalf records the failure and ends the case's goroutine, as testing.T.FailNow does.
func (t *caseT) Fatalf(format string, args ...any) {
	t.fail(fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (t *caseT) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

func (t *caseT) TempDir() string {
	dir, err := os.MkdirTemp("", "storetest-"+strings.NewReplacer("/", "_", " ", "_").Replace(t.name)+"-")
	if err != nil {
		t.Fatalf("TempDir: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// cleanup runs the registered cleanups, last first, as testing does.
func (t *caseT) cleanup() {
	for {
		t.mu.Lock()
		n := len(t.cleanups)
		if n == 0 {
			t.mu.Unlock()
			return
		}
		f := t.cleanups[n-1]
		t.cleanups = t.cleanups[:n-1]
		t.mu.Unlock()
		f()
	}
}
