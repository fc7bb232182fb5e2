// Package inmem is the in-memory store.Store driver, registered as "inmem".
//
// Data lives in a copy-on-write B-tree (github.com/google/btree, whose Clone is O(1) and shares
// nodes until either side writes). A committed tree is never modified again: a View reads the
// committed tree it began on, without any lock and without a clone, so readers never wait for a
// writer and always see one consistent snapshot; an Update works on its own clone and
// publishes it on commit by swapping one pointer. Rollback simply drops the clone.
//
// The driver is not durable: everything is gone when the store is closed. A read-only open
// (store.OpenReadOnly) is a new, empty store that refuses writes: it creates nothing anywhere,
// so it is no error.
//
// # DSN
//
// The DSN's form is pdk.DSNEmpty: the dsn given to store.Open is ignored, and every Open
// returns a new, empty store, so a fresh store needs nothing. As one DRIVER:DSN string:
//
//	s, err := store.OpenDSN(ctx, "inmem:")
package inmem

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/google/btree"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// Name is the name the driver registers under.
const Name = "inmem"

func init() {
	pdk.DeclareDSN(Name, pdk.DSNEmpty)
	store.Register(Name, func(ctx context.Context, dsn string) (store.Store, error) {
		if store.ReadOnlyOpen(ctx) {
			// Every open makes a new, empty store, which creates nothing anywhere: read-only,
			// it is an empty store that refuses writes.
			return pdk.NewStore(NewDriver(), pdk.WithReadOnly()), nil
		}
		return Open(), nil
	})
}

// Open returns a new, empty in-memory store.
func Open() store.Store { return pdk.NewStore(NewDriver()) }

// NewDriver returns a new, empty in-memory pdk.Driver, for hosts that serve drivers (the wasm
// and plugin guests) rather than use them through a Store.
func NewDriver() pdk.Driver {
	d := &driver{}
	d.committed.Store(btree.NewG(32, less))
	return d
}

// entry is one key/value. Entries in a committed tree are immutable: a write replaces the
// entry. The tree holds pointers to entries: a write copies the nodes on its path, and a node
// of pointers is a sixth the size of one of entries, with a third of the pointers for the
// garbage collector to follow (in a WebAssembly guest, most of a write's cost).
type entry struct {
	ns, key string
	value   string
}

func less(a, b *entry) bool {
	// Entries of one namespace usually share its string (a caller's constant, the ABI
	// dispatcher's copy): then they are equal without comparing bytes.
	if len(a.ns) != len(b.ns) || unsafe.StringData(a.ns) != unsafe.StringData(b.ns) {
		if a.ns != b.ns {
			return a.ns < b.ns
		}
	}
	return a.key < b.key
}

// pivots recycles the entries that lookups search the tree for, so that a Get allocates
// nothing (a pivot handed to the tree escapes, as far as the compiler knows).
var pivots = sync.Pool{New: func() any { return new(entry) }}

// find returns the entry of (ns, key) in tree, or nil.
func find(tree *btree.BTreeG[*entry], ns, key string) *entry {
	p := pivots.Get().(*entry)
	p.ns, p.key = ns, key
	e, _ := tree.Get(p)
	*p = entry{}
	pivots.Put(p)
	return e
}

type driver struct {
	// mu serializes the writers' use of committed: Clone mutates the tree it clones (its
	// copy-on-write context, which readers never look at), Commit swaps it. Readers only load it.
	mu        sync.Mutex
	committed atomic.Pointer[btree.BTreeG[*entry]]
}

// errConflict reports a second writer, which the pdk adapter never lets happen.
var errConflict = errors.New("inmem: write conflict: another write transaction committed first")

func (d *driver) Info() pdk.Info {
	return pdk.Info{Name: Name, Version: "1", Caps: pdk.Capabilities{ConcurrentReaders: true}}
}

func (d *driver) Begin(ctx context.Context, writable bool) (pdk.Txn, error) {
	if !writable {
		// A committed tree is never modified again (Clone only replaces its copy-on-write
		// context, which reads do not look at), so a reader can use it as it is.
		return reader{d.committed.Load()}, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	base := d.committed.Load()
	return &writer{d: d, base: base, tree: base.Clone()}, nil
}

func (d *driver) Ping(context.Context) error { return nil }

func (d *driver) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.committed.Store(btree.NewG(2, less))
	return nil
}

// reader is a read-only transaction: the committed tree it began on. A struct of one pointer
// is stored in an interface as it is, so beginning a reader allocates nothing.
type reader struct {
	tree *btree.BTreeG[*entry]
}

var (
	_ pdk.GetAppender = reader{}
	_ pdk.GetAppender = (*writer)(nil)
)

// errReadOnly refuses a write to a reader, which must never change the committed tree it
// shares with every other reader. The pdk adapter never asks for one.
var errReadOnly = fmt.Errorf("inmem: write in a read-only transaction: %w", store.ErrReadOnly)

func (r reader) Get(_ context.Context, ns, key string) ([]byte, error) {
	return get(r.tree, ns, key)
}

func (r reader) GetAppend(_ context.Context, ns, key string, dst []byte) ([]byte, error) {
	return getAppend(r.tree, ns, key, dst)
}

func (r reader) Put(context.Context, string, string, []byte) error { return errReadOnly }
func (r reader) Delete(context.Context, string, string) error      { return errReadOnly }
func (r reader) Commit(context.Context) error                      { return errReadOnly }
func (r reader) Rollback() error                                   { return nil }

func (r reader) Scan(_ context.Context, ns, prefix, after string, limit int) ([]store.KeyValue, bool, error) {
	return scan(r.tree, ns, prefix, after, limit)
}

// writer is a writable transaction: a private clone of the committed tree it began on.
type writer struct {
	d    *driver
	base *btree.BTreeG[*entry] // committed tree when the txn began
	tree *btree.BTreeG[*entry] // this txn's private clone
}

func (t *writer) Get(_ context.Context, ns, key string) ([]byte, error) {
	return get(t.tree, ns, key)
}

func (t *writer) GetAppend(_ context.Context, ns, key string, dst []byte) ([]byte, error) {
	return getAppend(t.tree, ns, key, dst)
}

func (t *writer) Put(_ context.Context, ns, key string, value []byte) error {
	t.tree.ReplaceOrInsert(&entry{ns: ns, key: key, value: string(value)})
	return nil
}

func (t *writer) Delete(_ context.Context, ns, key string) error {
	p := pivots.Get().(*entry)
	p.ns, p.key = ns, key
	t.tree.Delete(p)
	*p = entry{}
	pivots.Put(p)
	return nil
}

func (t *writer) Scan(_ context.Context, ns, prefix, after string, limit int) ([]store.KeyValue, bool, error) {
	return scan(t.tree, ns, prefix, after, limit)
}

func (t *writer) Commit(context.Context) error {
	t.d.mu.Lock()
	defer t.d.mu.Unlock()
	if t.d.committed.Load() != t.base {
		return errConflict
	}
	t.d.committed.Store(t.tree)
	return nil
}

func (t *writer) Rollback() error { return nil }

func get(tree *btree.BTreeG[*entry], ns, key string) ([]byte, error) {
	e := find(tree, ns, key)
	if e == nil {
		return nil, store.ErrNotFound
	}
	return []byte(e.value), nil
}

// getAppend is pdk.GetAppender's method: the value appended to dst, no copy of its own.
func getAppend(tree *btree.BTreeG[*entry], ns, key string, dst []byte) ([]byte, error) {
	e := find(tree, ns, key)
	if e == nil {
		return dst, store.ErrNotFound
	}
	return append(dst, e.value...), nil
}

// pageBytes bounds the key and value bytes of a scan page (the first entry is always taken): a
// page copies its values, and a page of 512 large values held at once is what made a
// WebAssembly guest near its memory limit run out of it. The ABI's own page budget is the same.
const pageBytes = 1 << 20

func scan(tree *btree.BTreeG[*entry], ns, prefix, after string, limit int) ([]store.KeyValue, bool, error) {
	from := prefix
	if after >= from {
		from = after + "\x00" // the smallest key greater than after
	}
	var (
		page []store.KeyValue
		more bool
		size int
	)
	tree.AscendGreaterOrEqual(&entry{ns: ns, key: from}, func(e *entry) bool {
		if e.ns != ns || !strings.HasPrefix(e.key, prefix) {
			return false
		}
		size += len(e.key) + len(e.value)
		if len(page) == limit || (len(page) > 0 && size > pageBytes) {
			more = true
			return false
		}
		page = append(page, store.KeyValue{Key: e.key, Value: []byte(e.value)})
		return true
	})
	return page, more, nil
}
