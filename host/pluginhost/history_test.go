//go:build unix

package pluginhost

import (
	"context"
	"errors"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest/history"
)

// killPlugin is a fault: SIGKILL the plugin process behind s, if one runs.
func killPlugin(s store.Store) func(context.Context) error {
	return func(context.Context) error {
		st, err := pluginStats(s)
		if err != nil {
			return err
		}
		if st.PID == 0 {
			return nil // between a death and the restart: nothing to kill
		}
		if err := syscall.Kill(st.PID, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return err
		}
		return nil
	}
}

// TestHistoryUnderKills runs the history workloads on the durable plugin drivers while the
// plugin process is killed with SIGKILL every 300 ms: the histories must stay strictly
// serializable, with every Update that failed for any reason but store.ErrCommitUnknown
// having had no effect, nothing acknowledged lost, and the bank's total kept.
func TestHistoryUnderKills(t *testing.T) {
	for _, d := range []struct {
		name string
		dsn  func(dir string) string
	}{
		{"sqlite", func(dir string) string { return filepath.Join(dir, "store.db") }},
		{"buntdb", func(dir string) string { return dir }},
	} {
		for _, w := range history.Workloads() {
			t.Run(d.name+"/"+w.Name, func(t *testing.T) {
				t.Parallel()
				s, err := Open(context.Background(), binary(t, d.name), d.dsn(t.TempDir()), quiet)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				rep, err := w.Run(context.Background(), history.Fixed(s), history.Options{Fault: killPlugin(s)})
				if err != nil {
					t.Fatalf("%v (%s)", err, rep)
				}
				if rep.Faults == 0 || rep.Failed == 0 {
					t.Fatalf("report %s: the kills did not land during transactions", rep)
				}
				t.Logf("%s", rep)
			})
		}
	}
}
