package storetest_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

// broken wraps the inmem driver with one deliberate defect.
type broken struct {
	pdk.Driver
	defect string
}

type brokenTxn struct {
	pdk.Txn
	defect   string
	writable bool
}

func (d broken) Begin(ctx context.Context, writable bool) (pdk.Txn, error) {
	tx, err := d.Driver.Begin(ctx, writable)
	return brokenTxn{Txn: tx, defect: d.defect, writable: writable}, err
}

func (tx brokenTxn) Rollback() error {
	if tx.defect == "ignores rollback" && tx.writable {
		return tx.Txn.Commit(context.Background())
	}
	return tx.Txn.Rollback()
}

func (tx brokenTxn) Get(ctx context.Context, ns, key string) ([]byte, error) {
	v, err := tx.Txn.Get(ctx, ns, key)
	if tx.defect == "absent is empty" && err != nil {
		return []byte{}, nil
	}
	return v, err
}

func (tx brokenTxn) Scan(ctx context.Context, ns, prefix, after string, limit int) ([]store.KeyValue, bool, error) {
	page, more, err := tx.Txn.Scan(ctx, ns, prefix, after, limit)
	if tx.defect == "scans in reverse" {
		page = slices.Clone(page)
		slices.Reverse(page)
	}
	return page, more, err
}

func harness(defect string) storetest.Harness {
	return storetest.Harness{
		Open: func(context.Context, storetest.T) (store.Store, error) {
			return pdk.NewStore(broken{Driver: inmem.NewDriver(), defect: defect}), nil
		},
		Caps: storetest.Capabilities{ConcurrentReaders: true},
	}
}

// TestCheckPassesCorrectDriver runs the suite through Check, the runner used outside go test.
func TestCheckPassesCorrectDriver(t *testing.T) {
	results := storetest.Check(harness(""), time.Minute, nil)
	if len(results) != len(storetest.Cases()) {
		t.Fatalf("Check returned %d results for %d cases", len(results), len(storetest.Cases()))
	}
	for _, r := range results {
		if !r.Passed {
			t.Errorf("%s failed on a correct driver: %s", r.Name, strings.Join(r.Log, "; "))
		}
	}
}

// TestSuiteCatchesBrokenDrivers proves the suite is not toothless: each defect makes the
// cases that guard against it fail.
func TestSuiteCatchesBrokenDrivers(t *testing.T) {
	for defect, mustFail := range map[string][]string{
		"ignores rollback": {"RollbackOnError", "RollbackOnPanic", "CancelledDuringCallback", "MigrateFailureRollsBack"},
		"absent is empty":  {"NotFoundVersusEmptyValue", "OverwriteAndDelete", "ReadYourOwnWrites"},
		"scans in reverse": {"ScanIsInByteOrder", "ScanPrefixBoundaries", "ScanOfManyPages"},
	} {
		t.Run(defect, func(t *testing.T) {
			failed := map[string]bool{}
			for _, r := range storetest.Check(harness(defect), time.Minute, nil) {
				failed[r.Name] = !r.Passed
			}
			for _, name := range mustFail {
				if !failed[name] {
					t.Errorf("case %s passed on a driver that %s", name, defect)
				}
			}
		})
	}
}

// TestCheckSurvivesPanicsAndHangs: a case that panics or hangs fails without taking the
// runner down.
func TestCheckSurvivesPanicsAndHangs(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	var calls atomic.Int32
	h := storetest.Harness{Open: func(context.Context, storetest.T) (store.Store, error) {
		switch calls.Add(1) {
		case 1:
			panic("driver exploded")
		case 2:
			<-block
		}
		return inmem.Open(), nil
	}}
	var got []storetest.Result
	storetest.Check(h, 200*time.Millisecond, func(r storetest.Result) {
		if len(got) < 2 {
			got = append(got, r)
		}
	})
	if len(got) != 2 || got[0].Passed || !strings.Contains(strings.Join(got[0].Log, ""), "driver exploded") {
		t.Fatalf("panicking case: %+v", got)
	}
	if got[1].Passed || !strings.Contains(strings.Join(got[1].Log, ""), "did not finish") {
		t.Fatalf("hanging case: %+v", got[1])
	}
}
