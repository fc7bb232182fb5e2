package postgres_test

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/dockyard/dockyard/drivers/postgres"
	"github.com/dockyard/dockyard/internal/multiproc"
	"github.com/dockyard/dockyard/internal/pgtest"
	"github.com/dockyard/dockyard/store"
)

func u64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }
func b64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// TestChild is the child process of the multi-process tests (multiproc). Without a role in
// its environment it does nothing.
func TestChild(t *testing.T) { multiproc.Child(t) }

// workload is the multi-process workload of TestProcesses: 4 processes of 2000 iterations.
var workload = multiproc.Workload{
	Procs: 4,
	Ops:   2000,
	Open:  func(ctx context.Context, dsn string) (store.Store, error) { return postgres.Open(ctx, dsn) },
	Note:  "serialized by the lock row",
}

func init() { workload.Register("workload") }

// TestProcesses runs the workload in 4 processes on one store: no increment is lost, and the
// bank's total never changes, whichever View of whichever process looks.
func TestProcesses(t *testing.T) {
	dsn := dsnWithTable(t, "shared")
	s := openT(t, dsn)
	workload.Seed(t, s)
	workload.Run(t, s, dsn, 5*time.Minute)
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
