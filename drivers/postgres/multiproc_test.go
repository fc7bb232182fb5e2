package postgres_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/dockyard/dockyard/drivers/postgres"
	"github.com/dockyard/dockyard/internal/pgtest"
	"github.com/dockyard/dockyard/store"
)

// The workload of TestProcesses: every child runs workloadOps iterations, each one Update
// incrementing a random counter and one Update moving money between two random accounts.
const (
	workloadProcs = 4
	workloadOps   = 2000
	counters      = 4
	accounts      = 8
	initialFunds  = 1000
)

func u64(b []byte) uint64     { return binary.BigEndian.Uint64(b) }
func b64(n uint64) []byte     { return binary.BigEndian.AppendUint64(nil, n) }
func counterKey(i int) string { return "c" + strconv.Itoa(i) }
func accountKey(i int) string { return "a" + strconv.Itoa(i) }

func init() { childRoles["workload"] = workload }

// workload is a child's work: it reports "inc <counter> <n>" for how many increments it made
// to each counter, and checks in a View every 100 iterations that the bank's total is intact.
func workload(dsn, arg string, out io.Writer) error {
	ctx := context.Background()
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer s.Close()
	seed, _ := strconv.ParseUint(arg, 10, 64)
	rng := rand.New(rand.NewPCG(seed, 7))
	var incs [counters]int
	for i := range workloadOps {
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

// TestProcesses runs the workload in 4 processes on one store: no increment is lost, and the
// bank's total never changes, whichever View of whichever process looks.
func TestProcesses(t *testing.T) {
	dsn := dsnWithTable(t, "shared")
	s := openT(t, dsn)
	mustUpdate(t, s, func(tx store.Tx) error {
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
	cs := startChildren(t, workloadProcs, "workload", dsn, func(i int) string { return strconv.Itoa(i + 1) })
	start := time.Now()
	outs := runChildren(t, cs, 5*time.Minute)
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
	if total != workloadProcs*workloadOps {
		t.Fatalf("%d increments in all, want %d", total, workloadProcs*workloadOps)
	}
	updates := 2 * workloadProcs * workloadOps
	t.Logf("%d processes, %d Updates in %v (%.0f µs per Update, serialized by the lock row)", workloadProcs, updates, elapsed.Round(time.Millisecond), float64(elapsed.Microseconds())/float64(updates))
}

// dsnWithTable is a fresh schema's DSN naming table through the DSN parameter, as a process
// that only has a DSN (store.Open) sees it.
func dsnWithTable(t *testing.T, table string) string {
	t.Helper()
	dsn, err := pgtest.WithParam(pgtest.DSN(t), postgres.TableParam, table)
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}
