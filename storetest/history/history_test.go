package history_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest/history"
)

// broken wraps the inmem driver with one deliberate defect, the kind a faulty driver or
// transport has.
type broken struct {
	pdk.Driver
	defect string
	n      atomic.Int64 // counts the events the defect keys on
	mu     sync.Mutex
	held   pdk.Txn // stale views: the read handle the next View gets
}

type brokenTxn struct {
	pdk.Txn
	d *broken
}

// stale is a read handle that outlives its View: it is handed out once more.
type stale struct{ pdk.Txn }

func (stale) Rollback() error { return nil }

func (d *broken) Begin(ctx context.Context, writable bool) (pdk.Txn, error) {
	tx, err := d.Driver.Begin(ctx, writable)
	if err != nil {
		return nil, err
	}
	if !writable {
		if d.defect != "stale views" {
			return tx, nil
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		old := d.held
		d.held = tx
		if old == nil || d.n.Add(1)%2 == 0 {
			return stale{tx}, nil
		}
		return stale{old}, nil // the snapshot of an earlier View
	}
	return &brokenTxn{Txn: tx, d: d}, nil
}

// split commits each write of an Update by itself (but for the namespace catalog's, which
// nobody reads), then waits a random while for other transactions to see the half.
func (tx *brokenTxn) split(ctx context.Context, ns string) error {
	if tx.d.defect != "splits updates" || ns == store.NamespaceCatalog {
		return nil
	}
	if err := tx.Txn.Commit(ctx); err != nil {
		return err
	}
	time.Sleep(time.Duration(500+rand.IntN(1000)) * time.Microsecond)
	next, err := tx.d.Driver.Begin(ctx, true)
	tx.Txn = next
	return err
}

func (tx *brokenTxn) Put(ctx context.Context, ns, key string, value []byte) error {
	if err := tx.Txn.Put(ctx, ns, key, value); err != nil {
		return err
	}
	return tx.split(ctx, ns)
}

func (tx *brokenTxn) Delete(ctx context.Context, ns, key string) error {
	if err := tx.Txn.Delete(ctx, ns, key); err != nil {
		return err
	}
	return tx.split(ctx, ns)
}

func (tx *brokenTxn) Commit(ctx context.Context) error {
	every4 := tx.d.n.Add(1)%4 == 0
	switch {
	case tx.d.defect == "reports commits as failed" && every4:
		if err := tx.Txn.Commit(ctx); err != nil {
			return err
		}
		return errors.New("broken: commit failed")
	case tx.d.defect == "drops acknowledged commits" && every4:
		return tx.Txn.Rollback()
	case tx.d.defect == "unknown commits" && tx.d.n.Load()%16 == 0: // honest: unknown, committed half the time
		if tx.d.n.Load()%32 == 0 {
			_ = tx.Txn.Commit(ctx)
		} else {
			_ = tx.Txn.Rollback()
		}
		return fmt.Errorf("broken: connection lost during COMMIT: %w", store.ErrCommitUnknown)
	}
	return tx.Txn.Commit(ctx)
}

func open(defect string) store.Store {
	return pdk.NewStore(&broken{Driver: inmem.NewDriver(), defect: defect})
}

// tolerant is a fault that breaks nothing: it makes the run accept errors from the store and
// check what they mean, as a run with real faults does.
func tolerant(context.Context) error { return nil }

// TestCorrectStorePasses: on a correct store every workload passes, with and without the
// tolerance of a fault run, and an honest ErrCommitUnknown (the commit happened or not) is
// accepted either way.
func TestCorrectStorePasses(t *testing.T) {
	for _, w := range history.Workloads() {
		for _, defect := range []string{"", "unknown commits"} {
			t.Run(w.Name+"/"+defect, func(t *testing.T) {
				s := open(defect)
				defer s.Close()
				o := history.Options{}
				if defect != "" {
					o.Fault = tolerant
				}
				rep, err := w.Run(context.Background(), history.Fixed(s), o)
				if err != nil {
					t.Fatalf("%v (%s)", err, rep)
				}
				if rep.OK == 0 || defect != "" && w.Name != "Bank" && rep.Unknown == 0 {
					t.Fatalf("report %s: the run did not exercise what it should", rep)
				}
			})
		}
	}
}

// TestBrokenStoresFail proves the checks have teeth: each defect makes the workloads that guard
// against it fail, with a message that says what went wrong.
func TestBrokenStoresFail(t *testing.T) {
	for _, tc := range []struct {
		defect string
		fail   map[string]string // workload -> part of its error
	}{
		{"stale views", map[string]string{"Registers": "not strictly serializable", "ListAppend": "stale View"}},
		{"splits updates", map[string]string{"Registers": "not strictly serializable", "Bank": "totalling"}},
		{"reports commits as failed", map[string]string{"Registers": "not strictly serializable", "ListAppend": "whose Update failed"}},
		{"drops acknowledged commits", map[string]string{"Registers": "not strictly serializable", "ListAppend": "lost write"}},
	} {
		for _, w := range history.Workloads() {
			want, ok := tc.fail[w.Name]
			if !ok {
				continue
			}
			t.Run(tc.defect+"/"+w.Name, func(t *testing.T) {
				s := open(tc.defect)
				defer s.Close()
				rep, err := w.Run(context.Background(), history.Fixed(s), history.Options{Fault: tolerant})
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("a store that %s: got %v (%s), want an error containing %q", tc.defect, err, rep, want)
				}
				t.Logf("%s caught: %v", tc.defect, err)
			})
		}
	}
}

// TestErrorEndsRunWithoutFault: outside a fault run, any error from the store fails the run and
// names the transaction.
func TestErrorEndsRunWithoutFault(t *testing.T) {
	s := open("reports commits as failed")
	defer s.Close()
	_, err := history.Registers(context.Background(), history.Fixed(s), history.Options{})
	if err == nil || !strings.Contains(err.Error(), "commit failed") || !strings.Contains(err.Error(), "client") {
		t.Fatalf("got %v, want the store's error with the client that met it", err)
	}
}

// TestStoreThatNeverRecovers: a fault run whose store never serves again fails at the final
// read, within Options.Recover.
func TestStoreThatNeverRecovers(t *testing.T) {
	s := inmem.Open()
	var closed atomic.Bool
	fault := func(context.Context) error {
		if closed.CompareAndSwap(false, true) {
			return s.Close()
		}
		return nil
	}
	_, err := history.ListAppend(context.Background(), history.Fixed(s),
		history.Options{Fault: fault, Ops: 1 << 30, Duration: 300 * time.Millisecond,
			FaultInterval: 100 * time.Millisecond, Recover: 200 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "did not serve again") || !errors.Is(err, store.ErrClosed) {
		t.Fatalf("got %v, want the final read to give up with store.ErrClosed", err)
	}
}
