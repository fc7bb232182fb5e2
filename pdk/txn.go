package pdk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/dockyard/dockyard/store"
)

// txn is the store.Tx the adapter hands to callbacks.
type txn struct {
	a        *adapter
	ctx      context.Context
	dtx      Txn
	writable bool
	done     atomic.Bool
	// failed is the first error the driver returned (other than not-found). A transaction whose
	// driver failed mid-way is never committed, even if the callback ignores the error: the
	// seam promises all or nothing.
	failed error
	// cataloged lists the namespaces this transaction has recorded in store.NamespaceCatalog
	// (almost always one or two: a slice beats a map).
	cataloged []string
}

// run calls fn exactly once and ends the driver transaction: commit on success, rollback on
// error, cancellation or panic (the panic then propagates).
func (t *txn) run(fn func(store.Tx) error) (err error) {
	ended := false
	defer func() {
		t.done.Store(true)
		if !ended { // fn panicked
			_ = t.dtx.Rollback()
		}
	}()
	fnErr := fn(t)
	ended = true
	t.done.Store(true)
	switch {
	case fnErr != nil:
		return rollback(t.dtx, fnErr)
	case t.ctx.Err() != nil:
		return rollback(t.dtx, t.ctx.Err())
	case t.failed != nil:
		return rollback(t.dtx, fmt.Errorf("%s: transaction not committed after an earlier failure: %w", t.a.info.Name, t.failed))
	case !t.writable:
		return t.dtx.Rollback()
	}
	if err := t.dtx.Commit(t.ctx); err != nil {
		return fmt.Errorf("%s: commit: %w", t.a.info.Name, err)
	}
	if t.a.info.Caps.Durable {
		for _, ns := range t.cataloged {
			t.a.cataloged.Store(ns, struct{}{})
		}
	}
	return nil
}

// scanBounds reports a Tx.Scan of ns and prefix that passed one of its bounds, having got n
// entries of size bytes since start, more to follow or not.
func (a *adapter) scanBounds(ns, prefix string, n, size int, more bool, start time.Time) error {
	switch {
	case n > a.scan.maxScanEntries:
		return fmt.Errorf("%w: %s: scan of namespace %q, prefix %q: more than %d entries (WithMaxScanEntries)", ErrScanLimit, a.info.Name, ns, prefix, a.scan.maxScanEntries)
	case size > a.scan.maxBytes:
		return fmt.Errorf("%w: %s: scan of namespace %q, prefix %q: more than %d bytes of keys and values (WithMaxScanBytes)", ErrScanLimit, a.info.Name, ns, prefix, a.scan.maxBytes)
	case more && time.Since(start) > a.scan.scanTimeout:
		return fmt.Errorf("%w: %s: scan of namespace %q, prefix %q: still paging after %v, %d entries so far (WithScanTimeout)", ErrScanLimit, a.info.Name, ns, prefix, a.scan.scanTimeout, n)
	}
	return nil
}

func rollback(dtx Txn, cause error) error {
	if err := dtx.Rollback(); err != nil {
		return errors.Join(cause, fmt.Errorf("rollback: %w", err))
	}
	return cause
}

// usable reports whether the Tx may still be used.
func (t *txn) usable() error {
	if t.done.Load() {
		return store.ErrTxDone
	}
	return t.ctx.Err()
}

// driverErr records a driver failure so the transaction cannot commit.
func (t *txn) driverErr(err error) error {
	if err != nil && t.failed == nil && !errors.Is(err, store.ErrNotFound) {
		t.failed = err
	}
	return err
}

func (t *txn) Get(ns, key string) ([]byte, error) {
	if err := t.usable(); err != nil {
		return nil, err
	}
	if err := t.a.checkKey(ns, key); err != nil {
		return nil, err
	}
	v, err := t.dtx.Get(t.ctx, ns, key)
	if err != nil {
		return nil, t.driverErr(err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// checkWrite reports why a write of (ns, key) may not go to the driver.
func (t *txn) checkWrite(ns, key string) error {
	if err := t.usable(); err != nil {
		return err
	}
	if !t.writable {
		return store.ErrReadOnly
	}
	return t.a.checkKey(ns, key)
}

func (t *txn) Put(ns, key string, value []byte) error {
	if err := t.checkWrite(ns, key); err != nil {
		return err
	}
	if len(value) > t.a.maxValue {
		return fmt.Errorf("%w: value of %d bytes (max %d)", store.ErrTooLarge, len(value), t.a.maxValue)
	}
	if err := t.catalog(ns); err != nil {
		return err
	}
	return t.driverErr(t.dtx.Put(t.ctx, ns, key, value))
}

// catalog records ns in store.NamespaceCatalog before the transaction's first Put there: a
// blind write of an empty value, which a transport buffers with the Put itself. A durable
// store skips it once an Update that recorded ns has committed (adapter.cataloged).
func (t *txn) catalog(ns string) error {
	if ns == store.NamespaceCatalog || slices.Contains(t.cataloged, ns) {
		return nil
	}
	if _, ok := t.a.cataloged.Load(ns); ok {
		return nil
	}
	if err := t.driverErr(t.dtx.Put(t.ctx, store.NamespaceCatalog, ns, nil)); err != nil {
		return err
	}
	t.cataloged = append(t.cataloged, ns)
	return nil
}

func (t *txn) Delete(ns, key string) error {
	if err := t.checkWrite(ns, key); err != nil {
		return err
	}
	return t.driverErr(t.dtx.Delete(t.ctx, ns, key))
}

// Scan assembles the driver's pages, checking that each page continues the last in byte order
// within the prefix: a driver that breaks that gets an error, not a silently wrong result.
func (t *txn) Scan(ns, prefix string) ([]store.KeyValue, error) {
	var out []store.KeyValue
	after := ""
	start, size := time.Now(), 0
	for {
		page, more, err := t.scanPage(ns, prefix, after, t.a.pageSize)
		if err != nil {
			return nil, err
		}
		for i := range page {
			size += len(page[i].Key) + len(page[i].Value)
		}
		if err := t.a.scanBounds(ns, prefix, len(out)+len(page), size, more, start); err != nil {
			return nil, err
		}
		if out == nil {
			out = page // most scans fit one page: no copy
		} else {
			out = append(out, page...)
		}
		if !more {
			return out, nil
		}
		after = page[len(page)-1].Key
	}
}
