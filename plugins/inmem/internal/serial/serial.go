// Package serial is the in-memory driver of plugins/inmem's WebAssembly form: the same store
// as drivers/inmem (not durable, every session empty, concurrent readers with snapshot
// isolation), in a structure that suits a guest whose calls run one at a time.
//
// drivers/inmem keeps a copy-on-write B-tree, so that a View reads without a lock while a
// writer works on its own clone. In a WebAssembly guest nothing runs in parallel, so the copies
// buy nothing and cost the most: a write copies every node on its path, and each copy is
// garbage for a collector that runs in the guest's only thread. This driver writes in place:
//
//   - Each namespace is a B-tree of key/value pairs held inline in its nodes (no pointer per
//     entry), which is never cloned; a write changes one node (a memmove within it), so a
//     write costs O(log n) however large the store grows.
//   - An Update writes straight into the trees and keeps an undo log of what it replaced, a
//     slice it appends to (no map): Rollback replays it backwards; Commit drops it.
//   - A View sees what was committed when it began. While no Update is open and none commits
//     during the View (the common case: the host's calls are serialized and a View is one
//     crossing), it reads the trees as they are. An open Update's undo log says what its keys
//     held before it, and a View that reads during an Update looks there first (through an
//     index built only when that happens); when an Update commits while Views are open, each of
//     them keeps the replaced values it has not seen change yet in an overlay of its own, which
//     it reads before the trees. Nothing is copied unless a View and an Update overlap.
//
// Every method takes one mutex, so the driver is also correct where calls do run in parallel
// (its tests run it natively, under the race detector), but it is built for one thread.
package serial

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/google/btree"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// Name is the driver's name, drivers/inmem's.
const Name = "inmem"

// degree is the B-trees' minimum degree: a node holds 31 to 63 pairs of 32 bytes. Larger nodes
// make a write's memmove longer and the tree shallower; 32 measured best at 1M keys.
const degree = 32

// item is one key and its value, held inline in a tree's nodes.
type item struct{ key, val string }

func less(a, b item) bool { return a.key < b.key }

// space is one namespace: its name (the driver's own copy) and its tree.
type space struct {
	name string
	tree *btree.BTreeG[item]
}

// okey names a key of one namespace in undo indexes and overlays.
type okey struct {
	sp  *space
	key string
}

// old is what a key held before a change: its value, or nothing (had false).
type old struct {
	val string
	had bool
}

// undo is one change an open Update made: key of sp held prev before it.
type undo struct {
	sp   *space
	key  string
	prev old
}

// keepLog is the longest undo log whose memory a committed Update leaves for the next one: a
// bulk load's log is let go.
const keepLog = 4096

// Driver is the in-memory pdk.Driver.
type Driver struct {
	mu     sync.Mutex
	spaces map[string]*space
	last   *space // the namespace found last, looked up again first

	// The one writable transaction: w, while writing. Its undo log, and an index of its first
	// change of each key, built when a View reads during the Update.
	w       writer
	writing bool
	log     []undo
	index   map[okey]int

	readers []*reader // the open Views
	free    []*reader // ended Views, for reuse
}

var (
	_ pdk.Driver      = (*Driver)(nil)
	_ pdk.GetAppender = (*reader)(nil)
	_ pdk.GetAppender = (*writer)(nil)
)

// New returns a new, empty driver.
func New() *Driver {
	d := &Driver{spaces: map[string]*space{}}
	d.w.d = d
	return d
}

// Info declares what drivers/inmem declares: not durable, concurrent readers, each reading
// its snapshot without waiting.
func (d *Driver) Info() pdk.Info {
	return pdk.Info{Name: Name, Version: "1", Caps: pdk.Capabilities{ConcurrentReaders: true}}
}

// errConflict reports a second writer, which the pdk adapter never lets happen.
var errConflict = errors.New("inmem: a write transaction is already open")

// errDone reports a call on a transaction that ended, which the pdk contract rules out.
var errDone = fmt.Errorf("inmem: the transaction has ended: %w", store.ErrTxDone)

// errReadOnly refuses a write to a View. The pdk adapter never asks for one.
var errReadOnly = fmt.Errorf("inmem: write in a read-only transaction: %w", store.ErrReadOnly)

func (d *Driver) Begin(_ context.Context, writable bool) (pdk.Txn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.spaces == nil {
		return nil, store.ErrClosed
	}
	if writable {
		if d.writing {
			return nil, errConflict
		}
		d.writing = true
		return &d.w, nil
	}
	var r *reader
	if n := len(d.free); n > 0 {
		r, d.free = d.free[n-1], d.free[:n-1]
	} else {
		r = &reader{d: d}
	}
	r.open, r.slot = true, len(d.readers)
	d.readers = append(d.readers, r)
	return r, nil
}

func (d *Driver) Ping(context.Context) error { return nil }

func (d *Driver) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.spaces, d.last, d.log, d.index, d.readers, d.free, d.writing = nil, nil, nil, nil, nil, nil, false
	return nil
}

// space returns the namespace ns, or nil. ns is not retained: GetAppend's may alias memory
// its caller reuses.
func (d *Driver) space(ns string) *space {
	if d.last != nil && d.last.name == ns {
		return d.last
	}
	sp := d.spaces[ns]
	if sp != nil {
		d.last = sp
	}
	return sp
}

// create returns the namespace ns, made if it is new.
func (d *Driver) create(ns string) *space {
	if sp := d.space(ns); sp != nil {
		return sp
	}
	sp := &space{name: strings.Clone(ns), tree: btree.NewG(degree, less)}
	d.spaces[sp.name] = sp
	d.last = sp
	return sp
}

// endWrite ends the open Update, which has been committed or undone.
func (d *Driver) endWrite() {
	if cap(d.log) > keepLog {
		d.log = nil
	} else {
		clear(d.log)
		d.log = d.log[:0]
	}
	d.index = nil
	d.writing = false
}

// before returns what key of sp held before the open Update changed it, if it did. It is
// what a View beside the Update reads.
func (d *Driver) before(sp *space, key string) (old, bool) {
	if !d.writing || len(d.log) == 0 {
		return old{}, false
	}
	if d.index == nil {
		d.index = make(map[okey]int, len(d.log))
		for i, u := range d.log {
			if _, ok := d.index[okey{u.sp, u.key}]; !ok {
				d.index[okey{u.sp, u.key}] = i
			}
		}
	}
	i, ok := d.index[okey{sp, key}]
	if !ok {
		return old{}, false
	}
	return d.log[i].prev, true
}

// record logs a change the open Update made.
func (d *Driver) record(sp *space, key string, prev old) {
	if d.index != nil {
		if _, ok := d.index[okey{sp, key}]; !ok {
			d.index[okey{sp, key}] = len(d.log)
		}
	}
	d.log = append(d.log, undo{sp: sp, key: key, prev: prev})
}

// writer is the writable transaction. There is one per driver, reused by every Update.
type writer struct{ d *Driver }

func (t *writer) Get(_ context.Context, ns, key string) ([]byte, error) {
	v, err := t.GetAppend(context.Background(), ns, key, nil)
	if err == nil && v == nil {
		v = []byte{}
	}
	return v, err
}

func (t *writer) GetAppend(_ context.Context, ns, key string, dst []byte) ([]byte, error) {
	d := t.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.writing {
		return dst, errDone
	}
	if sp := d.space(ns); sp != nil {
		if it, ok := sp.tree.Get(item{key: key}); ok {
			return append(dst, it.val...), nil
		}
	}
	return dst, store.ErrNotFound
}

func (t *writer) Put(_ context.Context, ns, key string, value []byte) error {
	d := t.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.writing {
		return errDone
	}
	sp := d.create(ns)
	prev, had := sp.tree.ReplaceOrInsert(item{key: key, val: string(value)})
	d.record(sp, key, old{prev.val, had})
	return nil
}

func (t *writer) Delete(_ context.Context, ns, key string) error {
	d := t.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.writing {
		return errDone
	}
	if sp := d.space(ns); sp != nil {
		if prev, had := sp.tree.Delete(item{key: key}); had {
			d.record(sp, prev.key, old{prev.val, true})
		}
	}
	return nil
}

func (t *writer) Scan(_ context.Context, ns, prefix, after string, limit int) ([]store.KeyValue, bool, error) {
	d := t.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.writing {
		return nil, false, errDone
	}
	page, more := scan(d.space(ns), nil, prefix, after, limit)
	return page, more, nil
}

// Commit keeps the Update's changes. A View still open keeps, in its overlay, the value each
// changed key held when the View began: the first one recorded, as a later commit's would be
// newer.
func (t *writer) Commit(context.Context) error {
	d := t.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.writing {
		return errDone
	}
	for _, r := range d.readers {
		if r.overlay == nil {
			r.overlay = make(map[okey]old, len(d.log))
		}
		for _, u := range d.log {
			k := okey{u.sp, u.key}
			if _, ok := r.overlay[k]; !ok {
				r.overlay[k] = u.prev
			}
		}
	}
	d.endWrite()
	return nil
}

// Rollback undoes the Update's changes, the last first.
func (t *writer) Rollback() error {
	d := t.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.writing {
		return nil
	}
	for i := len(d.log) - 1; i >= 0; i-- {
		u := d.log[i]
		if u.prev.had {
			u.sp.tree.ReplaceOrInsert(item{key: u.key, val: u.prev.val})
		} else {
			u.sp.tree.Delete(item{key: u.key})
		}
	}
	d.endWrite()
	return nil
}

// reader is a read-only transaction. Ended ones are reused.
type reader struct {
	d    *Driver
	open bool
	slot int // its index in d.readers
	// overlay holds what keys changed by Updates committed since the View began held
	// when it began; nil while none has.
	overlay map[okey]old
}

func (r *reader) Get(ctx context.Context, ns, key string) ([]byte, error) {
	v, err := r.GetAppend(ctx, ns, key, nil)
	if err == nil && v == nil {
		v = []byte{}
	}
	return v, err
}

func (r *reader) GetAppend(_ context.Context, ns, key string, dst []byte) ([]byte, error) {
	d := r.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if !r.open {
		return dst, errDone
	}
	sp := d.space(ns)
	if sp == nil {
		return dst, store.ErrNotFound
	}
	if o, ok := r.seen(sp, key); ok {
		if !o.had {
			return dst, store.ErrNotFound
		}
		return append(dst, o.val...), nil
	}
	if it, ok := sp.tree.Get(item{key: key}); ok {
		return append(dst, it.val...), nil
	}
	return dst, store.ErrNotFound
}

// seen returns what key of sp held when the View began, if it has changed since (the trees
// hold something else).
func (r *reader) seen(sp *space, key string) (old, bool) {
	if r.overlay != nil {
		if o, ok := r.overlay[okey{sp, key}]; ok {
			return o, true
		}
	}
	return r.d.before(sp, key)
}

func (r *reader) Scan(_ context.Context, ns, prefix, after string, limit int) ([]store.KeyValue, bool, error) {
	d := r.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if !r.open {
		return nil, false, errDone
	}
	sp := d.space(ns)
	if sp == nil {
		return nil, false, nil
	}
	var changed []change
	if r.overlay != nil || (d.writing && len(d.log) > 0) {
		changed = r.changes(sp, prefix, from(prefix, after))
	}
	page, more := scan(sp, changed, prefix, after, limit)
	return page, more, nil
}

// change is a key of a scanned range that changed since the View began, and what it held.
type change struct {
	key string
	old
}

// changes returns, sorted by key, the keys of sp from start on with the prefix that changed
// since the View began (by the open Update or one committed since), with what they held.
func (r *reader) changes(sp *space, prefix, start string) []change {
	d := r.d
	var cs []change
	add := func(key string) {
		if key < start || !strings.HasPrefix(key, prefix) {
			return
		}
		if o, ok := r.seen(sp, key); ok {
			cs = append(cs, change{key, o})
		}
	}
	for k := range r.overlay {
		if k.sp == sp {
			add(k.key)
		}
	}
	if d.writing {
		for _, u := range d.log {
			if u.sp == sp {
				add(u.key)
			}
		}
	}
	slices.SortFunc(cs, func(a, b change) int { return strings.Compare(a.key, b.key) })
	return slices.CompactFunc(cs, func(a, b change) bool { return a.key == b.key })
}

func (r *reader) Put(context.Context, string, string, []byte) error { return errReadOnly }
func (r *reader) Delete(context.Context, string, string) error      { return errReadOnly }

// Commit ends the View (the pdk contract commits only writable transactions).
func (r *reader) Commit(context.Context) error {
	_ = r.Rollback()
	return errReadOnly
}

func (r *reader) Rollback() error {
	d := r.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if !r.open {
		return nil
	}
	r.open = false
	if d.readers == nil { // the driver was closed
		return nil
	}
	last := d.readers[len(d.readers)-1]
	d.readers[r.slot], last.slot = last, r.slot
	d.readers[len(d.readers)-1] = nil
	d.readers = d.readers[:len(d.readers)-1]
	r.overlay = nil
	d.free = append(d.free, r)
	return nil
}

// pageBytes bounds the key and value bytes of a scan page (the first entry is always taken), as
// drivers/inmem's: a page copies its values, and a guest near its memory limit must not hold
// 512 large ones at once.
const pageBytes = 1 << 20

// from returns the first key a scan of prefix after after may return.
func from(prefix, after string) string {
	if after >= prefix {
		return after + "\x00" // the smallest key greater than after
	}
	return prefix
}

// scan returns a page of sp's keys with prefix after after, with changed (sorted, from the
// page's first key on) read instead of the tree's for the keys it holds.
func scan(sp *space, changed []change, prefix, after string, limit int) ([]store.KeyValue, bool) {
	if sp == nil {
		return nil, false
	}
	var (
		page []store.KeyValue
		more bool
		size int
	)
	// emit adds a pair to the page, or says the page is full.
	emit := func(key, val string) bool {
		size += len(key) + len(val)
		if len(page) == limit || (len(page) > 0 && size > pageBytes) {
			more = true
			return false
		}
		page = append(page, store.KeyValue{Key: key, Value: []byte(val)})
		return true
	}
	full := false
	sp.tree.AscendGreaterOrEqual(item{key: from(prefix, after)}, func(it item) bool {
		if !strings.HasPrefix(it.key, prefix) {
			return false
		}
		for len(changed) > 0 && changed[0].key <= it.key {
			c := changed[0]
			changed = changed[1:]
			if c.key == it.key {
				if c.had {
					full = !emit(c.key, c.val)
					return !full
				}
				return true // absent when the View began
			}
			if c.had && !emit(c.key, c.val) {
				full = true
				return false
			}
		}
		full = !emit(it.key, it.val)
		return !full
	})
	for _, c := range changed {
		if full {
			break
		}
		if c.had {
			full = !emit(c.key, c.val)
		}
	}
	return page, more
}
