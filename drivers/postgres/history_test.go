package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/pgtest"
	"github.com/dockyard/dockyard/storetest/history"
)

// TestHistoryUnderRestarts runs the history workloads while the server is stopped (an
// immediate shutdown, which is what a crash looks like to clients, then a fast one, in turn)
// and started again, over and over: the histories must stay strictly serializable, with only
// store.ErrCommitUnknown Updates left open, nothing acknowledged lost, the bank's total kept.
func TestHistoryUnderRestarts(t *testing.T) {
	srv := pgtest.NewServer(t)
	for _, w := range history.Workloads() {
		t.Run(w.Name, func(t *testing.T) {
			s := openT(t, srv.DSN()+" dockyard_table=history_"+strings.ToLower(w.Name))
			var n int
			restart := func(context.Context) error {
				n++
				if err := srv.Stop(n%2 == 1); err != nil {
					return err
				}
				return srv.Resume()
			}
			rep, err := w.Run(t.Context(), history.Fixed(s), history.Options{Fault: restart})
			if err != nil {
				t.Fatalf("%v (%s)", err, rep)
			}
			if rep.Faults == 0 || rep.Failed == 0 {
				t.Fatalf("report %s: the restarts did not land during transactions", rep)
			}
			t.Logf("%s", rep)
		})
	}
}
