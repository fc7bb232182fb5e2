package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dockyard/dockyard/drivers/etcd"
	"github.com/dockyard/dockyard/internal/etcdtest"
	"github.com/dockyard/dockyard/internal/multiproc"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest/history"
)

// faultLockTTL is the lock TTL of the fault tests' stores: a lease lost while the cluster had no
// majority holds the lock no longer than this after the cluster is back.
const faultLockTTL = "2s"

// memberDown is how long a fault keeps members down before starting them again: several
// election timeouts, so that clients meet the fault, not only its start.
const memberDown = 1500 * time.Millisecond

// faults are the cluster faults of TestHistoryUnderFaults. Each takes members down, waits, and
// brings them back; the clients keep running transactions all along.
var faults = []struct {
	name  string
	fault func(ctx context.Context, c *etcdtest.Cluster, n int) error
}{
	// A member, a different one each time, killed with SIGKILL: a minority lost.
	{"KillMember", func(ctx context.Context, c *etcdtest.Cluster, n int) error {
		return downAndUp(ctx, c, []int{n % c.Size()}, c.Kill)
	}},
	// The leader, killed with SIGKILL: requests in flight on it fail, a new leader is elected.
	{"KillLeader", func(ctx context.Context, c *etcdtest.Cluster, n int) error {
		l, err := c.Leader(ctx)
		if err != nil {
			return err
		}
		return downAndUp(ctx, c, []int{l}, c.Kill)
	}},
	// Two members of three stopped: no majority, so no writes and no linearizable reads, until
	// one is back. (A minority stopped is KillMember's case.)
	{"StopMajority", func(ctx context.Context, c *etcdtest.Cluster, n int) error {
		return downAndUp(ctx, c, []int{n % c.Size(), (n + 1) % c.Size()}, c.Stop)
	}},
}

// downAndUp takes the members down with down, waits memberDown, starts them again and waits
// for the cluster to be healthy.
func downAndUp(ctx context.Context, c *etcdtest.Cluster, members []int, down func(int) error) error {
	for _, m := range members {
		if err := down(m); err != nil {
			return fmt.Errorf("take member %d down: %w", m, err)
		}
	}
	select {
	case <-time.After(memberDown):
	case <-ctx.Done():
	}
	for _, m := range members {
		if err := c.Start(m); err != nil {
			return fmt.Errorf("start member %d again: %w", m, err)
		}
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	return c.WaitHealthy(wctx)
}

// TestHistoryUnderFaults runs the history workloads (strict serializability checked by a
// linearizability checker; list appends; bank transfers) on a store of a private 3-member
// cluster while members are killed and stopped and started again: every history must check,
// with only Updates whose commit is unknown left open, nothing acknowledged lost, and the
// bank's total kept.
func TestHistoryUnderFaults(t *testing.T) {
	c := etcdtest.NewCluster(t, 3)
	for _, f := range faults {
		for _, w := range history.Workloads() {
			t.Run(f.name+"/"+w.Name, func(t *testing.T) {
				s := openT(t, c.DSN(fmt.Sprintf("faults_%s_%s", f.name, w.Name))+"?lock_ttl="+faultLockTTL)
				n := 0
				fault := func(ctx context.Context) error {
					n++
					return f.fault(ctx, c, n)
				}
				rep, err := w.Run(t.Context(), history.Fixed(s), history.Options{
					Fault: fault, Duration: 6 * time.Second, Recover: time.Minute,
				})
				if err != nil {
					t.Fatalf("%v (%s)", err, rep)
				}
				if rep.Faults == 0 || rep.OK == 0 {
					t.Fatalf("report %s: no fault ran, or nothing succeeded", rep)
				}
				t.Logf("%s", rep)
			})
		}
	}
}

func init() { multiproc.Register("churn", churn) }

// churn is a child that runs read-modify-write Updates of its own namespace, on the same store
// (so under the same write lock) as the parent's, until it is killed: it says "started" after
// its first commit.
func churn(ctx context.Context, dsn, _ string, out io.Writer) error {
	s, err := openEtcd(ctx, dsn)
	if err != nil {
		return err
	}
	for i := 0; ; i++ {
		if err := s.Update(ctx, func(tx store.Tx) error {
			v, err := tx.Get("churn", "n")
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			return tx.Put("churn", "n", append(v, 'x'))
		}); err != nil {
			return err
		}
		if i == 0 {
			fmt.Fprintln(out, "started")
		}
	}
}

// TestHistoryWithKilledClients runs the history workloads while, again and again, another
// process writing the same store is killed with SIGKILL at a random moment of its Updates,
// often while it holds the write lock: the lock must be retaken (within the lease's TTL), and
// the histories, checked as in TestHistoryUnderFaults, must show nothing lost and nothing out of
// order.
func TestHistoryWithKilledClients(t *testing.T) {
	dsn := etcdtest.DSN(t)
	for _, w := range history.Workloads() {
		if w.Name == "ListAppend" {
			continue // Registers and Bank check the same through the lock; one cluster fault test runs all three
		}
		t.Run(w.Name, func(t *testing.T) {
			target := dsn + "/killed_" + w.Name
			s := openT(t, target, etcd.WithLockTTL(testLockTTL))
			rng := rand.New(rand.NewPCG(uint64(len(w.Name)), 9))
			kill := func(ctx context.Context) error {
				c := multiproc.Start(t, 1, "churn", target, nil)[0]
				c.Go()
				select {
				case l, ok := <-c.Lines:
					if !ok || l != "started" {
						c.Kill()
						return fmt.Errorf("the churning child said %q: %s", l, c.Stderr())
					}
				case <-time.After(30 * time.Second):
					c.Kill()
					return fmt.Errorf("the churning child did not commit within 30s: %s", c.Stderr())
				}
				time.Sleep(time.Duration(rng.IntN(50)) * time.Millisecond)
				c.Kill()
				return nil
			}
			rep, err := w.Run(t.Context(), history.Fixed(s), history.Options{
				Fault: kill, Duration: 6 * time.Second, FaultInterval: time.Second,
			})
			if err != nil {
				t.Fatalf("%v (%s)", err, rep)
			}
			if rep.Faults == 0 || rep.OK == 0 {
				t.Fatalf("report %s: no client was killed, or nothing succeeded", rep)
			}
			t.Logf("%s", rep)
		})
	}
}
