//go:build unix

package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/store"
)

// pidOf returns the pid of the plugin process behind s, failing t if none runs.
func pidOf(t testing.TB, s store.Store) int {
	t.Helper()
	st := statsOf(t, s)
	if st.PID == 0 {
		t.Fatal("no plugin process is running")
	}
	return st.PID
}

func statsOf(t testing.TB, s store.Store) pdk.TransportStats {
	t.Helper()
	st, err := pluginStats(s)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// pluginStats is statsOf for goroutines other than the test's.
func pluginStats(s store.Store) (pdk.TransportStats, error) {
	st, ok := pdk.StatsOf(s)
	if !ok {
		return pdk.TransportStats{}, errors.New("the store reports no transport statistics")
	}
	return st, nil
}

func kill9(t testing.TB, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d: %v", pid, err)
	}
}

// readCounter returns the counter and checks every key k1..counter holds its number.
func readCounter(t testing.TB, s store.Store) int {
	t.Helper()
	var n int
	err := s.View(context.Background(), func(tx store.Tx) error {
		v, err := tx.Get("c", "counter")
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if n, err = strconv.Atoi(string(v)); err != nil {
			return err
		}
		kvs, err := tx.Scan("k", "")
		if err != nil {
			return err
		}
		if len(kvs) != n {
			return fmt.Errorf("counter %d but %d keys: a transaction was applied in part", n, len(kvs))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading the counter: %v", err)
	}
	return n
}

// increment commits counter+1 and the key k<counter+1>, in one Update.
func increment(ctx context.Context, s store.Store, during func()) error {
	return s.Update(ctx, func(tx store.Tx) error {
		n := 0
		v, err := tx.Get("c", "counter")
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		default:
			if n, err = strconv.Atoi(string(v)); err != nil {
				return err
			}
		}
		n++
		if err := tx.Put("k", fmt.Sprintf("%06d", n), []byte(strconv.Itoa(n))); err != nil {
			return err
		}
		if during != nil {
			during()
		}
		return tx.Put("c", "counter", []byte(strconv.Itoa(n)))
	})
}

// TestKillMidUpdate kills the plugin with SIGKILL at random moments while Updates run, 100
// times. Every Update acknowledged before a kill must survive the restart, the one in flight
// may only have committed if its error says the outcome is unknown, and no Update is ever
// applied in part.
func TestKillMidUpdate(t *testing.T) {
	s, _ := openSQLite(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(4, 2))
	acked, maybe := 0, false
	for round := range 100 {
		pid := pidOfRunning(t, s)
		delay := time.Duration(r.IntN(3000)) * time.Microsecond
		killed := make(chan struct{})
		time.AfterFunc(delay, func() { _ = syscall.Kill(pid, syscall.SIGKILL); close(killed) })
		for {
			err := increment(ctx, s, nil)
			if err == nil {
				acked++
				maybe = false
				select {
				case <-killed:
				default:
					continue
				}
				break
			}
			if !errors.Is(err, abi.ErrBroken) {
				t.Fatalf("round %d: Update failed without saying the plugin was lost: %v", round, err)
			}
			maybe = errors.Is(err, store.ErrCommitUnknown)
			<-killed
			break
		}
		waitReaped(t, pid)
		got := readCounter(t, s) // restarts the plugin
		switch {
		case got == acked:
		case got == acked+1 && maybe:
			acked++ // the unknown outcome was a commit
		default:
			t.Fatalf("round %d: counter %d after the kill; %d Updates were acknowledged (outcome of the last unknown: %v)", round, got, acked, maybe)
		}
	}
	if st := statsOf(t, s); st.Starts < 100 {
		t.Errorf("%d plugin processes started in 100 rounds of kills", st.Starts)
	}
	t.Logf("%d Updates acknowledged across 100 kills", acked)
}

// waitReaped waits until pid has exited and been reaped by go-plugin: from then on the host
// knows the process is gone before it sends anything to it.
func waitReaped(t testing.TB, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); errors.Is(err, os.ErrNotExist) {
			time.Sleep(20 * time.Millisecond) // go-plugin marks it exited after reaping
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("plugin process %d not reaped within 5s of SIGKILL", pid)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// pidOfRunning makes sure a plugin process runs (Ping starts one) and returns its pid.
func pidOfRunning(t testing.TB, s store.Store) int {
	t.Helper()
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	return pidOf(t, s)
}

// TestKillInsideUpdate kills the plugin while an Update's callback runs: the Update fails with
// an error saying the process died, which is not an unknown outcome (the COMMIT never left),
// nothing of it is applied, and the next Update runs on a new process.
func TestKillInsideUpdate(t *testing.T) {
	s, _ := openSQLite(t)
	ctx := context.Background()
	if err := increment(ctx, s, nil); err != nil {
		t.Fatal(err)
	}
	pid := pidOf(t, s)
	err := increment(ctx, s, func() {
		kill9(t, pid)
		deadline := time.Now().Add(5 * time.Second)
		for !processGone(pid) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond) // let the host see the stream break
	})
	if !errors.Is(err, abi.ErrBroken) || errors.Is(err, store.ErrCommitUnknown) || !strings.Contains(err.Error(), "died") {
		t.Fatalf("Update whose plugin died before its commit: %v; want ErrBroken saying it died, not ErrCommitUnknown", err)
	}
	if got := readCounter(t, s); got != 1 {
		t.Fatalf("counter %d after the failed Update, want 1", got)
	}
	if err := increment(ctx, s, nil); err != nil {
		t.Fatalf("Update after the restart: %v", err)
	}
	if st := statsOf(t, s); st.Starts != 2 || st.PID == pid {
		t.Errorf("stats after one kill: %+v (old pid %d), want 2 starts and a new pid", st, pid)
	}
}

// TestKillBetweenTransactions: a plugin killed while idle is replaced at the next use, which
// succeeds and sees everything committed before.
func TestKillBetweenTransactions(t *testing.T) {
	s, _ := openSQLite(t)
	ctx := context.Background()
	for range 3 {
		if err := increment(ctx, s, nil); err != nil {
			t.Fatal(err)
		}
	}
	pid := pidOf(t, s)
	kill9(t, pid)
	waitReaped(t, pid)
	if got := readCounter(t, s); got != 3 {
		t.Fatalf("counter after the restart: %d, want 3", got)
	}
	if err := increment(ctx, s, nil); err != nil {
		t.Fatal(err)
	}
	if got := readCounter(t, s); got != 4 {
		t.Fatalf("counter: %d, want 4", got)
	}
}
