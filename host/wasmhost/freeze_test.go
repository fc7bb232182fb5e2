package wasmhost

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The freeze tests run a guest while other goroutines allocate and collect, and measure how
// long a heartbeat goroutine ever waits. Without exits to Go in the guest's code, the first
// stop-the-world of a collection waits for the guest to return: a looping guest then freezes
// the whole process, its own watchdog and the test's timeout included. So each scenario runs in
// a child process (this test binary, told by freezeChildEnv), which the parent kills if it does
// not finish, and reports its measurements on stdout.

const freezeChildEnv = "DOCKYARD_TEST_FREEZE_CHILD"

// maxHeartbeatGap bounds the heartbeat's longest wait. It is generous for a loaded machine (the
// scheduler's time slice is 10 ms, a collection's pauses well under that); a guest holding a
// stop-the-world holds it for its whole call.
const maxHeartbeatGap = 500 * time.Millisecond

// freezeScenarios are the guests the child runs, by name.
var freezeScenarios = map[string]struct {
	call    []byte // dockyard_call's body
	locals  []byte
	timeout time.Duration
}{
	// A guest that loops for ever on request length 7.
	"loop": {call: cat(when(7, insLoopForever), echo), timeout: 300 * time.Millisecond},
	// An honest guest that counts to 5·10⁸ in an i64 local (about a second of work), then
	// answers; its deadline is far off.
	"honest": {
		call: cat(when(7,
			[]byte{0x03, 0x40},                                    // loop
			[]byte{0x20, 0x01}, i64c(1), []byte{0x7c, 0x22, 0x01}, // local.get 1; i64.const 1; i64.add; local.tee 1
			i64c(500_000_000), []byte{0x54, 0x0d, 0x00}, // i64.lt_u; br_if 0
			insEnd), echo),
		locals:  []byte{0x01, 0x7e},
		timeout: time.Minute,
	},
}

// freezeReport is what the child measured.
type freezeReport struct {
	elapsed, maxGap time.Duration
	err             string
	after           string // the answer of a call after the first, on the same transport
}

func TestLoopingGuestUnderGC(t *testing.T) {
	r := runFreezeChild(t, "loop")
	if !strings.Contains(r.err, "dockyard_call exceeded its 300ms deadline") {
		t.Errorf("the looping call ended with %q, want its deadline", r.err)
	}
	if r.elapsed > 300*time.Millisecond+2*time.Second {
		t.Errorf("the looping call ended after %v, long past its 300ms deadline", r.elapsed)
	}
	if r.after != "after" {
		t.Errorf("the next call, on a fresh instance, answered %q, want %q", r.after, "after")
	}
	if r.maxGap > maxHeartbeatGap {
		t.Errorf("a heartbeat waited %v while the guest looped (at most %v allowed)", r.maxGap, maxHeartbeatGap)
	}
}

func TestLongHonestCallUnderGC(t *testing.T) {
	r := runFreezeChild(t, "honest")
	if r.err != "" {
		t.Errorf("the long call failed: %s", r.err)
	}
	if r.maxGap > maxHeartbeatGap {
		t.Errorf("a heartbeat waited %v during a %v guest call (at most %v allowed)", r.maxGap, r.elapsed, maxHeartbeatGap)
	}
}

// runFreezeChild runs scenario in a child process and parses its report.
func runFreezeChild(t *testing.T, scenario string) freezeReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), freezeChildEnv+"="+scenario)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("the child process running the %q guest did not finish in 90 s: the host froze", scenario)
	}
	if err != nil {
		t.Fatalf("child process: %v\nstdout: %s\nstderr: %s", err, stdout.Bytes(), stderr.Bytes())
	}
	var r freezeReport
	if _, err := fmt.Sscanf(stdout.String(), "elapsed=%d maxgap=%d after=%q err=%q", &r.elapsed, &r.maxGap, &r.after, &r.err); err != nil {
		t.Fatalf("child report %q: %v", stdout.String(), err)
	}
	t.Logf("%s guest: call %v, longest heartbeat wait %v, error %q", scenario, r.elapsed, r.maxGap, r.err)
	return r
}

// freezeChild runs a scenario under allocation and collection pressure, prints its report and
// exits.
func freezeChild(scenario string) {
	sc, ok := freezeScenarios[scenario]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown scenario %q\n", scenario)
		os.Exit(2)
	}
	g := binding(1, nil, sc.call)
	g.funcs[2].locals = sc.locals
	m, err := Compile(context.Background(), g.bytes(), WithCacheDir(""), WithCallTimeout(sc.timeout))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	tr, err := newTransport(m, "", false)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if _, err := tr.RoundTrip(context.Background(), []byte("warm")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}

	var stop atomic.Bool
	var wg sync.WaitGroup
	var sink atomic.Pointer[[]*[64]byte]
	for range runtime.GOMAXPROCS(0) { // allocators, one per processor
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				s := make([]*[64]byte, 256)
				for i := range s {
					s[i] = new([64]byte)
				}
				sink.Store(&s)
			}
		}()
	}
	wg.Add(2)
	go func() { // a collector
		defer wg.Done()
		for !stop.Load() {
			runtime.GC()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	var maxGap atomic.Int64
	go func() { // the heartbeat
		defer wg.Done()
		last := time.Now()
		for !stop.Load() {
			time.Sleep(time.Millisecond)
			now := time.Now()
			if gap := int64(now.Sub(last)); gap > maxGap.Load() {
				maxGap.Store(gap)
			}
			last = now
		}
	}()
	time.Sleep(50 * time.Millisecond) // let the pressure start

	start := time.Now()
	_, callErr := tr.RoundTrip(context.Background(), []byte("request"))
	elapsed := time.Since(start)
	after, afterErr := tr.RoundTrip(context.Background(), []byte("after"))
	stop.Store(true)
	wg.Wait()
	msg := ""
	if callErr != nil {
		msg = callErr.Error()
	}
	if afterErr != nil {
		after = []byte("error: " + afterErr.Error())
	}
	fmt.Printf("elapsed=%d maxgap=%d after=%q err=%q", elapsed, maxGap.Load(), after, msg)
	tr.close()
	m.Close(context.Background())
	os.Exit(0)
}
