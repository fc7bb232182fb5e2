// Package inmem is the in-memory store.Store driver, registered as "inmem".
//
// Data lives in a copy-on-write B-tree (github.com/google/btree, whose Clone is O(1) and shares
// nodes until either side writes). A committed tree is never modified again: a View takes a
// clone of the committed tree and reads it without any lock, so readers never wait for a
// writer and always see one consistent snapshot; an Update works on its own clone and
// publishes it on commit by swapping one pointer. Rollback simply drops the clone.
//
// The driver is not durable: everything is gone when the store is closed. The dsn given to
// store.Open is ignored; every Open returns a new, empty store.
package inmem

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/google/btree"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// Name is the name the driver registers under.
const Name = "inmem"

func init() {
	store.Register(Name, func(ctx context.Context, dsn string) (store.Store, error) {
		return Open(), nil
	})
}

// Open returns a new, empty in-memory store.
func Open() store.Store { return pdk.NewStore(NewDriver()) }

// NewDriver returns a new, empty in-memory pdk.Driver, for hosts that serve drivers (the wasm
// and plugin guests) rather than use them through a Store.
func NewDriver() pdk.Driver {
	return &driver{committed: btree.NewG(32, less)}
}

// entry is one key/value. Entries in a committed tree are immutable: a write replaces the
// entry, never its value's bytes.
type entry struct {
	ns, key string
	value   []byte
}

func less(a, b entry) bool {
	if a.ns != b.ns {
		return a.ns < b.ns
	}
	return a.key < b.key
}

type driver struct {
	mu        sync.Mutex // guards committed; Clone mutates the tree it clones
	committed *btree.BTreeG[entry]
}

// errConflict reports a second writer, which the pdk adapter never lets happen.
var errConflict = errors.New("inmem: write conflict: another write transaction committed first")

func (d *driver) Info() pdk.Info {
	return pdk.Info{Name: Name, Version: "1", Caps: pdk.Capabilities{ConcurrentReaders: true}}
}

func (d *driver) Begin(ctx context.Context, writable bool) (pdk.Txn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return &txn{d: d, base: d.committed, tree: d.committed.Clone(), writable: writable}, nil
}

func (d *driver) Ping(context.Context) error { return nil }

func (d *driver) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.committed = btree.NewG(2, less)
	return nil
}

type txn struct {
	d        *driver
	base     *btree.BTreeG[entry] // committed tree when the txn began
	tree     *btree.BTreeG[entry] // this txn's private clone
	writable bool
}

func (t *txn) Get(_ context.Context, ns, key string) ([]byte, error) {
	e, ok := t.tree.Get(entry{ns: ns, key: key})
	if !ok {
		return nil, store.ErrNotFound
	}
	return append([]byte{}, e.value...), nil
}

func (t *txn) Put(_ context.Context, ns, key string, value []byte) error {
	t.tree.ReplaceOrInsert(entry{ns: ns, key: key, value: append([]byte{}, value...)})
	return nil
}

func (t *txn) Delete(_ context.Context, ns, key string) error {
	t.tree.Delete(entry{ns: ns, key: key})
	return nil
}

func (t *txn) Scan(_ context.Context, ns, prefix, after string, limit int) ([]store.KeyValue, bool, error) {
	from := prefix
	if after >= from {
		from = after + "\x00" // the smallest key greater than after
	}
	var (
		page []store.KeyValue
		more bool
	)
	t.tree.AscendGreaterOrEqual(entry{ns: ns, key: from}, func(e entry) bool {
		if e.ns != ns || !strings.HasPrefix(e.key, prefix) {
			return false
		}
		if len(page) == limit {
			more = true
			return false
		}
		page = append(page, store.KeyValue{Key: e.key, Value: append([]byte{}, e.value...)})
		return true
	})
	return page, more, nil
}

func (t *txn) Commit(context.Context) error {
	t.d.mu.Lock()
	defer t.d.mu.Unlock()
	if t.d.committed != t.base {
		return errConflict
	}
	t.d.committed = t.tree
	return nil
}

func (t *txn) Rollback() error { return nil }
