package multiproc

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/dockyard/dockyard/store"
)

// The store of the workload: counters counters at counter/c<i> and accounts accounts at
// bank/a<i>, each an 8-byte big-endian number, the accounts initialFunds each at first.
const (
	counters     = 4
	accounts     = 8
	initialFunds = 1000
)

func u64(b []byte) uint64     { return binary.BigEndian.Uint64(b) }
func b64(n uint64) []byte     { return binary.BigEndian.AppendUint64(nil, n) }
func counterKey(i int) string { return "c" + strconv.Itoa(i) }
func accountKey(i int) string { return "a" + strconv.Itoa(i) }

// Workload is the multi-process workload of a shared store: Procs children each run Ops
// iterations of one Update incrementing a random counter and one Update moving money between
// two random accounts (a read of both and a conditional write), and check in a View every 100
// iterations that the bank's total is intact. Then the parent checks, in one View, that no
// increment was lost and the bank's total is intact: Updates of different processes are
// serializable, and every View is one snapshot.
//
// Its children's role must be registered in the test binary at init time, with Register:
//
//	var workload = multiproc.Workload{Procs: 4, Ops: 2000, Open: func(ctx context.Context, dsn string) (store.Store, error) {
//		return postgres.Open(ctx, dsn)
//	}}
//
//	func init() { workload.Register("workload") }
//
//	func TestChild(t *testing.T) { multiproc.Child(t) }
//
//	func TestProcesses(t *testing.T) {
//		dsn := ... // a fresh store
//		s := ...   // opened on dsn
//		workload.Seed(t, s)
//		workload.Run(t, s, dsn, 5*time.Minute)
//	}
type Workload struct {
	// Procs is the number of children, Ops the iterations each runs. They may be changed after
	// Register (a copy with fewer Ops for -short): the children get Ops from Run.
	Procs, Ops int
	// Open opens the store at a target, in a child. Register keeps the Open it is given.
	Open func(ctx context.Context, target string) (store.Store, error)
	// Note, if set, ends the summary line Run logs (e.g. how the driver serializes Updates).
	Note string

	role string // set by Register
}

// Register registers the role of w's children, named role, running w.Open. Call it from an
// init function (see the package doc); Run fails the test of a Workload that was not
// registered. It panics if w.Open is nil or role is taken.
func (w *Workload) Register(role string) {
	if w.Open == nil {
		panic("multiproc: Workload.Register with a nil Open")
	}
	open := w.Open
	Register(role, func(ctx context.Context, target, arg string, out io.Writer) error {
		return work(ctx, open, target, arg, out)
	})
	w.role = role
}

// Seed writes the workload's initial store to s: every counter 0, every account initialFunds.
func (w Workload) Seed(t testing.TB, s store.Store) {
	t.Helper()
	err := s.Update(t.Context(), func(tx store.Tx) error {
		for c := range counters {
			if err := tx.Put("counter", counterKey(c), b64(0)); err != nil {
				return err
			}
		}
		for a := range accounts {
			if err := tx.Put("bank", accountKey(a), b64(initialFunds)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("multiproc: seeding the workload: %v", err)
	}
}

// Run runs the workload in w.Procs children on target, a store that Seed has prepared, and
// fails t if a child failed, if they had not ended after timeout, or if s (the same store,
// opened by this process) then shows a lost increment or a bank whose total changed.
func (w Workload) Run(t testing.TB, s store.Store, target string, timeout time.Duration) {
	t.Helper()
	if w.role == "" {
		t.Fatal("multiproc: Workload.Run of a workload that was not registered: call its Register from an init function")
	}
	if w.Procs < 1 || w.Ops < 1 {
		t.Fatalf("multiproc: Workload of %d processes of %d iterations", w.Procs, w.Ops)
	}
	ps := Start(t, w.Procs, w.role, target, func(i int) string { return fmt.Sprintf("%d %d", i+1, w.Ops) })
	start := time.Now()
	outs := Run(t, ps, timeout)
	elapsed := time.Since(start)
	var want [counters]uint64
	for i, lines := range outs {
		for _, line := range lines {
			var c int
			var n uint64
			if _, err := fmt.Sscanf(line, "inc %d %d", &c, &n); err != nil || c < 0 || c >= counters {
				t.Fatalf("child %d reported %q", i, line)
			}
			want[c] += n
		}
	}
	var total uint64
	err := s.View(t.Context(), func(tx store.Tx) error {
		for c := range counters {
			v, err := tx.Get("counter", counterKey(c))
			if err != nil {
				return err
			}
			if u64(v) != want[c] {
				return fmt.Errorf("counter %d is %d, but the processes made %d increments to it", c, u64(v), want[c])
			}
			total += u64(v)
		}
		return checkBank(tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	if total != uint64(w.Procs*w.Ops) {
		t.Fatalf("%d increments in all, want %d", total, w.Procs*w.Ops)
	}
	note := ""
	if w.Note != "" {
		note = ", " + w.Note
	}
	updates := 2 * w.Procs * w.Ops
	t.Logf("%d processes, %d Updates in %v (%.0f µs per Update%s)", w.Procs, updates, elapsed.Round(time.Millisecond), float64(elapsed.Microseconds())/float64(updates), note)
}

// work is a child's part of the workload; arg is "<seed> <ops>". It reports "inc <counter> <n>"
// for how many increments it made to each counter.
func work(ctx context.Context, open func(ctx context.Context, target string) (store.Store, error), target, arg string, out io.Writer) error {
	var seed uint64
	var ops int
	if _, err := fmt.Sscanf(arg, "%d %d", &seed, &ops); err != nil {
		return fmt.Errorf("workload argument %q: %v", arg, err)
	}
	s, err := open(ctx, target)
	if err != nil {
		return err
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(seed, 7))
	var incs [counters]int
	for i := range ops {
		c := rng.IntN(counters)
		if err := s.Update(ctx, func(tx store.Tx) error {
			v, err := tx.Get("counter", counterKey(c))
			if err != nil {
				return err
			}
			return tx.Put("counter", counterKey(c), b64(u64(v)+1))
		}); err != nil {
			return fmt.Errorf("increment %d: %w", i, err)
		}
		incs[c]++
		from, to := rng.IntN(accounts), rng.IntN(accounts)
		amount := uint64(1 + rng.IntN(300))
		if err := s.Update(ctx, func(tx store.Tx) error { return transfer(tx, from, to, amount) }); err != nil {
			return fmt.Errorf("transfer %d: %w", i, err)
		}
		if i%100 == 0 {
			if err := s.View(ctx, checkBank); err != nil {
				return fmt.Errorf("iteration %d: %w", i, err)
			}
		}
	}
	for c, n := range incs {
		fmt.Fprintf(out, "inc %d %d\n", c, n)
	}
	return nil
}

// transfer moves amount from one account to another if the first holds enough: a read of both
// and a conditional write, which loses money (or overdraws) without serializable Updates.
func transfer(tx store.Tx, from, to int, amount uint64) error {
	if from == to {
		return nil
	}
	fv, err := tx.Get("bank", accountKey(from))
	if err != nil {
		return err
	}
	tv, err := tx.Get("bank", accountKey(to))
	if err != nil {
		return err
	}
	if u64(fv) < amount {
		return nil
	}
	if err := tx.Put("bank", accountKey(from), b64(u64(fv)-amount)); err != nil {
		return err
	}
	return tx.Put("bank", accountKey(to), b64(u64(tv)+amount))
}

// checkBank checks the accounts hold the initial total, in one snapshot.
func checkBank(tx store.Tx) error {
	kvs, err := tx.Scan("bank", "a")
	if err != nil {
		return err
	}
	var total uint64
	for _, kv := range kvs {
		total += u64(kv.Value)
	}
	if len(kvs) != accounts || total != accounts*initialFunds {
		return fmt.Errorf("the bank holds %d accounts with %d in total, want %d with %d", len(kvs), total, accounts, accounts*initialFunds)
	}
	return nil
}
