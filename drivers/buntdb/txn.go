package buntdb

import (
	"context"
	"errors"
	"fmt"
	"strings"

	bunt "github.com/tidwall/buntdb"

	"github.com/dockyard/dockyard/store"
)

// txn is a pdk.Txn. A writable one owns a buntdb write transaction; read-only ones share the
// driver's one buntdb read transaction.
type txn struct {
	d        *driver
	tx       *bunt.Tx
	writable bool
	done     bool
	// touched holds the buntdb keys this transaction set or deleted, each with the CRC-32C of
	// the record buntdb will write for it at commit (one per key: the last write wins).
	touched map[string]uint32
}

var errTxEnded = errors.New("buntdb: transaction already ended")

func (t *txn) Get(_ context.Context, ns, key string) ([]byte, error) {
	if t.done {
		return nil, errTxEnded
	}
	v, err := t.tx.Get(encodeKey(ns, key))
	if errors.Is(err, bunt.ErrNotFound) {
		return nil, fmt.Errorf("buntdb: get %q in namespace %q: %w", key, ns, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("buntdb: get: %w", err)
	}
	return []byte(v), nil // a copy: the caller owns it
}

func (t *txn) Put(_ context.Context, ns, key string, value []byte) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	k := encodeKey(ns, key)
	// string(value) copies: the driver keeps nothing of the caller's slice.
	if _, _, err := t.tx.Set(k, string(value), nil); err != nil {
		return fmt.Errorf("buntdb: put: %w", err)
	}
	t.touched[k] = setCRC(k, value)
	return nil
}

func (t *txn) Delete(_ context.Context, ns, key string) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	k := encodeKey(ns, key)
	_, err := t.tx.Delete(k)
	switch {
	case errors.Is(err, bunt.ErrNotFound):
		return nil // absent: buntdb records nothing
	case err != nil:
		return fmt.Errorf("buntdb: delete: %w", err)
	}
	t.touched[k] = delCRC(k)
	return nil
}

func (t *txn) checkWrite() error {
	switch {
	case t.done:
		return errTxEnded
	case !t.writable:
		return store.ErrReadOnly
	}
	return nil
}

func (t *txn) Scan(_ context.Context, ns, prefix, after string, limit int) ([]store.KeyValue, bool, error) {
	if t.done {
		return nil, false, errTxEnded
	}
	if limit <= 0 {
		return nil, false, fmt.Errorf("buntdb: scan with limit %d", limit)
	}
	base := nsPrefix(ns)
	full := base + prefix // every key of the page starts with it
	from := full
	if after != "" && after >= prefix {
		from = base + after + "\x00" // the smallest key greater than after
	}
	var (
		page  []store.KeyValue
		more  bool
		bytes int
	)
	err := t.tx.AscendGreaterOrEqual("", from, func(k, v string) bool {
		if !strings.HasPrefix(k, full) {
			return false
		}
		if len(page) == limit || bytes >= maxPageBytes {
			more = true
			return false
		}
		page = append(page, store.KeyValue{Key: k[len(base):], Value: []byte(v)})
		bytes += len(k) + len(v)
		return true
	})
	if err != nil {
		return nil, false, fmt.Errorf("buntdb: scan: %w", err)
	}
	return page, more, nil
}

// Commit writes the transaction's records with buntdb, framed by a commit record (see
// file.go), then fsyncs the file. buntdb's own fsync (SyncPolicy Always) discards its error, so
// the driver runs buntdb with SyncPolicy Never and fsyncs through its own handle on the same
// file, which flushes the same inode and does report a failure. After a failed fsync nothing
// is known about what reached the disk, so the store fails: every later call returns the error
// until it is reopened, which recovers from the file.
func (t *txn) Commit(context.Context) error {
	if !t.writable {
		return errors.New("buntdb: commit of a read-only transaction")
	}
	if t.done {
		return errTxEnded
	}
	t.done = true
	d := t.d
	d.mu.Lock()
	defer d.mu.Unlock()
	d.writeTx = nil
	wrote := len(t.touched) > 0
	if wrote {
		var sum uint32
		for _, c := range t.touched {
			sum += c
		}
		if _, _, err := t.tx.Set(commitKey, commitValue(len(t.touched)+1, sum), nil); err != nil {
			_ = t.tx.Rollback()
			return fmt.Errorf("buntdb: commit to %s: %w", d.path, err)
		}
	}
	if err := commit(t.tx); err != nil {
		if p, ok := errors.AsType[*panicError](err); ok {
			d.wedged = true
			return d.fail(fmt.Errorf("buntdb: commit to %s: %w", d.path, p))
		}
		// buntdb undid the transaction in memory and cut any partial write off the file.
		return fmt.Errorf("buntdb: commit to %s: %w", d.path, err)
	}
	if !wrote {
		return nil
	}
	if err := d.syncf.Sync(); err != nil {
		return d.fail(fmt.Errorf("buntdb: commit to %s: fsync: %w", d.path, err))
	}
	if st, err := d.syncf.Stat(); err == nil {
		d.size = st.Size()
	}
	return nil
}

// panicError is a panic inside buntdb, turned into an error. buntdb panics when it cannot undo
// a partial write; it may then still hold its lock.
type panicError struct{ v any }

func (p *panicError) Error() string { return fmt.Sprintf("buntdb panicked: %v", p.v) }

func commit(tx *bunt.Tx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{v}
		}
	}()
	return tx.Commit()
}

func (t *txn) Rollback() error {
	if t.done {
		return nil
	}
	t.done = true
	d := t.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if t.writable {
		d.writeTx = nil
		if d.wedged {
			return nil
		}
		if err := t.tx.Rollback(); err != nil {
			return fmt.Errorf("buntdb: rollback: %w", err)
		}
		return nil
	}
	if d.readers > 0 { // Close may have ended the shared read transaction already
		d.readers--
	}
	if d.readers == 0 && d.readTx != nil {
		tx := d.readTx
		d.readTx = nil
		if err := tx.Rollback(); err != nil {
			return fmt.Errorf("buntdb: end read transaction: %w", err)
		}
	}
	return nil
}
