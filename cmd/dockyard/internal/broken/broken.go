// Package broken holds deliberately broken drivers, test fixtures for `dockyard conform`: each
// wraps the in-memory driver and breaks one rule of the driver contract, which the conformance
// suite must catch. They are never compiled into the dockyard command.
package broken

import (
	"context"
	"sync"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// Names under which Register registers the drivers.
const (
	// ScanOrderName's Scan returns each page's keys in descending order.
	ScanOrderName = "broken-scanorder"
	// NoRollbackName's Rollback of a writable transaction commits it: the writes of a failed
	// Update persist.
	NoRollbackName = "broken-norollback"
)

// NewScanOrder returns a driver whose Scan pages are in descending key order.
func NewScanOrder() pdk.Driver { return &driver{Driver: inmem.NewDriver(), fault: reverseScan} }

// NewNoRollback returns a driver that commits writable transactions it is asked to roll back.
func NewNoRollback() pdk.Driver { return &driver{Driver: inmem.NewDriver(), fault: commitOnRollback} }

var registerOnce sync.Once

// Register registers both drivers with package store (once; later calls do nothing).
func Register() {
	registerOnce.Do(func() {
		store.Register(ScanOrderName, func(context.Context, string) (store.Store, error) {
			return pdk.NewStore(NewScanOrder()), nil
		})
		store.Register(NoRollbackName, func(context.Context, string) (store.Store, error) {
			return pdk.NewStore(NewNoRollback()), nil
		})
	})
}

type fault int

const (
	reverseScan fault = iota
	commitOnRollback
)

// driver is inmem with a fault.
type driver struct {
	pdk.Driver
	fault fault
}

func (d *driver) Info() pdk.Info {
	info := d.Driver.Info()
	info.Name = map[fault]string{reverseScan: ScanOrderName, commitOnRollback: NoRollbackName}[d.fault]
	return info
}

func (d *driver) Begin(ctx context.Context, writable bool) (pdk.Txn, error) {
	tx, err := d.Driver.Begin(ctx, writable)
	if err != nil {
		return nil, err
	}
	return &txn{Txn: tx, fault: d.fault, writable: writable}, nil
}

// txn is an inmem transaction with a fault.
type txn struct {
	pdk.Txn
	fault    fault
	writable bool
}

func (t *txn) Scan(ctx context.Context, ns, prefix, after string, limit int) ([]store.KeyValue, bool, error) {
	page, more, err := t.Txn.Scan(ctx, ns, prefix, after, limit)
	if err == nil && t.fault == reverseScan {
		for i, j := 0, len(page)-1; i < j; i, j = i+1, j-1 {
			page[i], page[j] = page[j], page[i]
		}
	}
	return page, more, err
}

func (t *txn) Rollback() error {
	if t.fault == commitOnRollback && t.writable {
		return t.Txn.Commit(context.Background())
	}
	return t.Txn.Rollback()
}
