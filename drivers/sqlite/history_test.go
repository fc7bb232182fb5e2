package sqlite_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dockyard/dockyard/drivers/sqlite"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest/history"
)

// TestHistoryAcrossReopens runs the history workloads while the store is closed and opened
// again on the same file every 100 ms (transactions that meet the closed store fail with
// store.ErrClosed and must have had no effect): what was committed before a reopen is what the
// reopened store reads.
func TestHistoryAcrossReopens(t *testing.T) {
	for _, w := range history.Workloads() {
		t.Run(w.Name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "store.db")
			var (
				mu  sync.Mutex
				cur = openT(t, path)
			)
			target := func() store.Store {
				mu.Lock()
				defer mu.Unlock()
				return cur
			}
			reopen := func(ctx context.Context) error {
				if err := target().Close(); err != nil {
					return err
				}
				s, err := sqlite.Open(ctx, path)
				if err != nil {
					return err
				}
				mu.Lock()
				cur = s
				mu.Unlock()
				return nil
			}
			rep, err := w.Run(t.Context(), target, history.Options{Fault: reopen, Ops: 300, FaultInterval: 100 * time.Millisecond})
			target().Close()
			if err != nil {
				t.Fatalf("%v (%s)", err, rep)
			}
			if rep.Faults == 0 || rep.Failed == 0 {
				t.Fatalf("report %s: no transaction met a closed store", rep)
			}
			t.Logf("%s", rep)
		})
	}
}
