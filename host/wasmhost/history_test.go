package wasmhost

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest/history"
)

// TestHistoryUnderTraps runs the history workloads on the hostile module (drivers/buntdb inside,
// in a data directory) while, every 300 ms, an Update makes the guest trap: the instance is
// discarded and the next call loads a fresh one from the directory. The histories must stay
// strictly serializable, nothing acknowledged lost, the bank's total kept. The transport runs
// one call at a time, so each trap lands between the workload's calls, never inside one (the
// plugin tests kill processes inside transactions).
func TestHistoryUnderTraps(t *testing.T) {
	_, hostile := sharedModules(t)
	for _, w := range history.Workloads() {
		t.Run(w.Name, func(t *testing.T) {
			s := openStore(t, hostile, filepath.Join(t.TempDir(), "data"))
			trap := func(ctx context.Context) error {
				err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("hostile", "trap", nil) })
				if err == nil || !strings.Contains(err.Error(), "guest trapped") {
					return errors.New("the trap did not trap: " + errString(err))
				}
				return nil
			}
			rep, err := w.Run(context.Background(), history.Fixed(s), history.Options{Fault: trap})
			if err != nil {
				t.Fatalf("%v (%s)", err, rep)
			}
			if rep.Faults == 0 {
				t.Fatalf("report %s: no trap", rep)
			}
			t.Logf("%s", rep)
		})
	}
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}
