package etcd_test

import (
	"context"
	"testing"
	"time"

	"github.com/dockyard/dockyard/drivers/etcd"
	"github.com/dockyard/dockyard/internal/crashtest"
	"github.com/dockyard/dockyard/internal/etcdtest"
	"github.com/dockyard/dockyard/internal/multiproc"
	"github.com/dockyard/dockyard/store"
)

// TestChild is the child process of the multi-process tests (multiproc). Without a role in
// its environment it does nothing.
func TestChild(t *testing.T) { multiproc.Child(t) }

// testLockTTL is the lock TTL of the stores of the kill tests, and lockPromptly how soon after
// a client was killed another process must get the write lock: the TTL, and time for etcd to
// notice the lease expired (it checks every 500 ms) and for the waiter to hear of it.
const (
	testLockTTL  = 2 * time.Second
	lockPromptly = testLockTTL + 3*time.Second
)

func openEtcd(ctx context.Context, dsn string) (store.Store, error) {
	return etcd.Open(ctx, dsn, etcd.WithLockTTL(testLockTTL))
}

// workload is the multi-process workload of TestProcesses: 4 processes of 200 iterations.
var workload = multiproc.Workload{
	Procs: 4,
	Ops:   200,
	Open:  openEtcd,
	Note:  "serialized by the lease-backed lock",
}

// lockHolder is TestKillLockHolder: the dead client's lock goes with its lease, so this
// process gets it within lockPromptly.
var lockHolder = multiproc.LockHolder{Open: openEtcd, Promptly: lockPromptly}

func init() {
	workload.Register("workload")
	lockHolder.Register("holdlock")
}

// TestProcesses runs the workload in 4 processes on one store of the shared 3-member cluster:
// no increment is lost, and the bank's total never changes, whichever View of whichever
// process looks.
func TestProcesses(t *testing.T) {
	dsn := etcdtest.DSN(t)
	s := openT(t, dsn)
	workload.Seed(t, s)
	workload.Run(t, s, dsn, 5*time.Minute)
}

// crashConfig is the crash test of a DSN; crashtest.Config.Env names the DSN the child writes to.
var crashConfig = crashtest.Config{
	Env:  "DOCKYARD_ETCD_CRASH_CHILD",
	Open: openEtcd,
	// The dead client's lock goes with its lease: this process gets the lock within
	// lockPromptly.
	Recovered: crashtest.LockRetaken(lockPromptly),
}

// TestCrashChild is the child process of TestKillClient. Without its variable set it returns
// at once.
func TestCrashChild(t *testing.T) { crashtest.Child(t, crashConfig) }

// TestKillClient kills (SIGKILL) a client process in the middle of its Updates, 6 times: every
// acknowledged Update is there in full, none is there in part, the lock is retaken after the
// lease's TTL, and the next child starts where the last one stopped.
func TestKillClient(t *testing.T) {
	cfg := crashConfig
	cfg.Target, cfg.Rounds = etcdtest.DSN(t), 6
	if testing.Short() {
		cfg.Rounds = 2
	}
	crashtest.Run(t, cfg)
}

// TestKillLockHolder kills a client while it holds the write lock, in the middle of an Update
// that has written: until then an Update here waits; after it, the lock is retaken within the
// lease's TTL, and the write is not there.
func TestKillLockHolder(t *testing.T) {
	dsn := etcdtest.DSN(t)
	lockHolder.Run(t, openT(t, dsn, etcd.WithLockTTL(testLockTTL)), dsn)
}

// mustUpdate runs fn in an Update of s, failing t on error.
func mustUpdate(t testing.TB, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}
