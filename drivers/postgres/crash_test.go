package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/dockyard/dockyard/drivers/postgres"
	"github.com/dockyard/dockyard/internal/crashtest"
	"github.com/dockyard/dockyard/internal/multiproc"
	"github.com/dockyard/dockyard/store"
)

// lockPromptly is how soon after a client was killed another process must get the write lock.
const lockPromptly = 5 * time.Second

// crashConfig is the crash test of a DSN; crashtest.Config.Env names the DSN the child writes to.
var crashConfig = crashtest.Config{
	Env:  "DOCKYARD_POSTGRES_CRASH_CHILD",
	Open: func(ctx context.Context, dsn string) (store.Store, error) { return postgres.Open(ctx, dsn) },
	// The dead client holds no lock: this process gets the write lock within lockPromptly.
	Recovered: crashtest.LockRetaken(lockPromptly),
}

// TestCrashChild is the child process of TestKillClient. Without its variable set it returns
// at once.
func TestCrashChild(t *testing.T) { crashtest.Child(t, crashConfig) }

// TestKillClient kills (SIGKILL) a client process in the middle of its Updates, 10 times: every
// acknowledged Update is there in full, none is there in part, and the dead client holds no
// lock: this process gets the write lock at once, and the next child starts where the last one
// stopped.
func TestKillClient(t *testing.T) {
	cfg := crashConfig
	cfg.Target, cfg.Rounds = dsnWithTable(t, "crash"), 10
	if testing.Short() {
		cfg.Rounds = 3
	}
	crashtest.Run(t, cfg)
}

// lockHolder is TestKillLockHolder: the lock row is the server's, released with the dead
// client's connection, so this process gets it within lockPromptly.
var lockHolder = multiproc.LockHolder{
	Open:     func(ctx context.Context, dsn string) (store.Store, error) { return postgres.Open(ctx, dsn) },
	Promptly: lockPromptly,
}

func init() { lockHolder.Register("holdlock") }

// TestKillLockHolder kills a client while it holds the write lock, in the middle of an Update
// that has written: another process gets the lock at once, and the write is not there.
func TestKillLockHolder(t *testing.T) {
	dsn := dsnWithTable(t, "holder")
	lockHolder.Run(t, openT(t, dsn), dsn)
}
