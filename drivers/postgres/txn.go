package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// A writable transaction buffers its Puts and Deletes and sends them in the round trip of its
// next read or of its commit; it sends them early once this many, or this many bytes, are
// buffered, to bound its memory and the size of one pipeline.
const (
	flushWrites = 1000
	flushBytes  = 4 << 20
)

// write is a buffered Put (value non-nil, a copy of the caller's) or Delete (value nil).
type write struct {
	ns, key string
	value   []byte
}

// txn is a pdk.Txn on one connection. Nothing is sent at Begin: the BEGIN (and for a writer
// the lock) goes in one pipeline with the first statement that needs a round trip, and a
// writer's buffered writes go with its next read or its COMMIT.
type txn struct {
	d            *driver
	pc           *pgxpool.Conn // nil once given back
	c            *pgx.Conn     // pc's connection; nil once given back
	writable     bool
	begun        bool // BEGIN has been sent
	pending      []write
	pendingBytes int
}

// send sends, in one pipeline and one round trip: BEGIN and (for a writer) the lock if not sent
// yet, the buffered writes, then whatever last queues. It returns the first error.
func (t *txn) send(ctx context.Context, last func(b *pgx.Batch)) error {
	b := &pgx.Batch{}
	if !t.begun {
		if t.writable {
			b.Queue(beginWrite)
			b.Queue(t.d.q.lock).QueryRow(t.checkLock)
		} else {
			b.Queue(beginRead)
		}
	}
	for _, w := range t.pending {
		switch {
		case w.value == nil:
			b.Queue(t.d.q.del, []byte(w.ns), []byte(w.key))
		case len(w.value) == 0:
			b.Queue(t.d.q.putEmpty, []byte(w.ns), []byte(w.key))
		default:
			b.Queue(t.d.q.put, []byte(w.ns), []byte(w.key), w.value)
		}
	}
	clear(t.pending) // the batch holds the values now; the buffer need not
	t.pending, t.pendingBytes = t.pending[:0], 0
	if last != nil {
		last(b)
	}
	t.begun = true
	return t.c.SendBatch(ctx, b).Close()
}

// checkLock reads the result of the lock statement, which fails on the server when the schema
// version is not this driver's any more (lockSQL).
func (t *txn) checkLock(r pgx.Row) error {
	var v int
	err := r.Scan(&v)
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && strings.Contains(pe.Message, lockVersionMark):
		return fmt.Errorf("the store's schema is not version %d any more (another process upgraded or altered it; reopen with a matching Dockyard): %w", SchemaVersion, err)
	case err != nil:
		return fmt.Errorf("take the write lock: %w", err)
	}
	return nil
}

func (t *txn) Get(ctx context.Context, ns, key string) ([]byte, error) {
	var (
		v     []byte
		found bool
	)
	err := t.send(ctx, func(b *pgx.Batch) {
		b.Queue(t.d.q.get, []byte(ns), []byte(key)).QueryRow(func(r pgx.Row) error {
			err := r.Scan(&v)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			found = err == nil
			return err
		})
	})
	switch {
	case err != nil:
		return nil, t.errorf("get", err)
	case !found:
		return nil, fmt.Errorf("postgres: get %q in namespace %q: %w", key, ns, store.ErrNotFound)
	case v == nil:
		v = []byte{}
	}
	return v, nil
}

func (t *txn) Put(ctx context.Context, ns, key string, value []byte) error {
	// A copy, never nil: nil stands for a Delete, and pgx sends a nil slice as NULL.
	v := make([]byte, len(value))
	copy(v, value)
	return t.buffer(ctx, write{ns: ns, key: key, value: v})
}

func (t *txn) Delete(ctx context.Context, ns, key string) error {
	return t.buffer(ctx, write{ns: ns, key: key})
}

func (t *txn) buffer(ctx context.Context, w write) error {
	t.pending = append(t.pending, w)
	t.pendingBytes += len(w.ns) + len(w.key) + len(w.value)
	if len(t.pending) < flushWrites && t.pendingBytes < flushBytes {
		return nil
	}
	if err := t.send(ctx, nil); err != nil {
		return t.errorf("write", err)
	}
	return nil
}

// keyScanner scans a bytea into a string with one copy.
type keyScanner string

func (k *keyScanner) ScanBytes(b []byte) error {
	*k = keyScanner(b)
	return nil
}

func (t *txn) Scan(ctx context.Context, ns, prefix, after string, limit int) ([]store.KeyValue, bool, error) {
	if limit <= 0 {
		return nil, false, fmt.Errorf("postgres: scan with limit %d", limit)
	}
	// One row more than the page: whether it exists is exactly whether more entries follow.
	n := limit + 1
	lo, loIncl := prefix, true
	if after != "" && after >= prefix {
		lo, loIncl = after, false
	}
	hi, hasHi := pdk.PrefixEnd(prefix)
	nsb := []byte(ns)
	var (
		q    string
		args []any
	)
	switch {
	case hasHi && lo >= hi:
		return nil, false, nil // after is past every key with the prefix
	case lo == "":
		q, args = t.d.q.scanAll, []any{nsb, n}
	case loIncl && hasHi:
		q, args = t.d.q.scanGELT, []any{nsb, []byte(lo), []byte(hi), n}
	case loIncl:
		q, args = t.d.q.scanGE, []any{nsb, []byte(lo), n}
	case hasHi:
		q, args = t.d.q.scanGTLT, []any{nsb, []byte(lo), []byte(hi), n}
	default:
		q, args = t.d.q.scanGT, []any{nsb, []byte(lo), n}
	}
	var page []store.KeyValue
	more := false
	err := t.send(ctx, func(b *pgx.Batch) {
		b.Queue(q, args...).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				if len(page) == limit {
					more = true
					break
				}
				var kv store.KeyValue
				if err := rows.Scan((*keyScanner)(&kv.Key), &kv.Value); err != nil {
					return err
				}
				if kv.Value == nil {
					kv.Value = []byte{}
				}
				page = append(page, kv)
			}
			return rows.Err()
		})
	})
	if err != nil {
		return nil, false, t.errorf("scan", err)
	}
	return page, more, nil
}

// Commit sends the buffered writes and COMMIT in one round trip (with BEGIN and the lock in
// front if the transaction has not read). It never retries: when the connection fails after
// the COMMIT may have reached the server, the error wraps store.ErrCommitUnknown.
func (t *txn) Commit(ctx context.Context) error {
	defer t.release() // a connection still inside the transaction is closed, which rolls it back
	if !t.begun && len(t.pending) == 0 {
		return nil // nothing was read or written
	}
	if t.c.IsClosed() {
		return t.errorf("commit (not sent)", pgconn.ErrConnClosed)
	}
	committed := false
	err := t.send(ctx, func(b *pgx.Batch) {
		b.Queue(commit).Exec(func(pgconn.CommandTag) error {
			committed = true
			return nil
		})
	})
	switch {
	case err == nil || committed:
		// The server reported the COMMIT done; an error after it (reading the end of the
		// pipeline) lost the connection, not the transaction.
		return nil
	case isServerError(err) && !errCode(err, codeQueryCanceled):
		// The server refused: rolled back. (A cancellation is left unknown: it may have
		// come too late to stop the COMMIT.)
		return t.errorf("commit", err)
	case pgconn.SafeToRetry(err) && !errors.Is(err, pgconn.ErrConnClosed):
		// Nothing was sent: the context had ended, or no byte of the pipeline was written.
		// (pgx also calls "conn closed" safe to retry, but it reports that for a connection
		// that died after the pipeline was written, too.)
		return t.errorf("commit (nothing reached the server)", err)
	}
	return fmt.Errorf("postgres: commit (table %q): the connection failed while the COMMIT was under way, so whether it committed is unknown: %w: %w", t.d.table, store.ErrCommitUnknown, err)
}

// isServerError reports whether err is an error the server reported for a statement (severity
// ERROR), after which the transaction is certainly not committed. A FATAL or PANIC error ends
// the connection and may come after a COMMIT took effect.
func isServerError(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	sev := pe.SeverityUnlocalized
	if sev == "" {
		sev = pe.Severity
	}
	return sev == "ERROR"
}

// Rollback ends the transaction. A transaction whose connection is gone ended with it on the
// server: that is not an error.
func (t *txn) Rollback() error {
	if t.c == nil {
		return nil
	}
	defer t.release()
	t.pending = nil
	if !t.begun || t.c.IsClosed() || t.c.PgConn().TxStatus() == 'I' {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if _, err := t.c.Exec(ctx, rollback); err != nil && !t.c.IsClosed() {
		return t.d.errorf("rollback", err)
	}
	return nil
}

// errorf is driver.errorf, saying so when the connection was lost (the server went away, the
// network failed, or the context ended in the middle of a statement).
func (t *txn) errorf(what string, err error) error {
	if t.c != nil && t.c.IsClosed() && !isServerError(err) {
		what += ": lost the connection to the server"
	}
	return t.d.errorf(what, err)
}

// release gives the connection back to its pool, which closes it instead of keeping it if it
// broke or is still inside the transaction (closing it rolls the transaction back).
func (t *txn) release() {
	if t.pc == nil {
		return
	}
	if pc := t.c.PgConn(); t.c.IsClosed() || pc.IsBusy() || pc.TxStatus() != 'I' {
		logDiscard(t.c)
	}
	t.pc.Release()
	t.pc, t.c = nil, nil
}
