package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// txn is a pdk.Txn over one database/sql transaction. Statements are the pool's prepared ones,
// bound to the transaction's connection the first time each is used (tx.StmtContext reuses the
// statement already prepared on that connection rather than preparing it again).
type txn struct {
	tx    *sql.Tx
	stmts *[numStmts]*sql.Stmt
	bound [numStmts]*sql.Stmt
}

func (t *txn) stmt(ctx context.Context, i int) *sql.Stmt {
	s := t.bound[i]
	if s == nil {
		s = t.tx.StmtContext(ctx, t.stmts[i])
		t.bound[i] = s
	}
	return s
}

// blob returns s as a []byte to bind. Binding a Go string would store TEXT, not BLOB.
func blob(s string) []byte { return []byte(s) }

func (t *txn) Get(ctx context.Context, ns, key string) ([]byte, error) {
	var v []byte
	err := t.stmt(ctx, stGet).QueryRowContext(ctx, blob(ns), blob(key)).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("sqlite: get %q in namespace %q: %w", key, ns, store.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("sqlite: get: %w", err)
	case v == nil:
		// modernc returns a zero-length BLOB as nil; the value is present and empty.
		v = []byte{}
	}
	return v, nil
}

func (t *txn) Put(ctx context.Context, ns, key string, value []byte) error {
	if value == nil {
		// modernc binds a nil []byte as NULL; an empty value is a zero-length BLOB.
		value = []byte{}
	}
	if _, err := t.stmt(ctx, stPut).ExecContext(ctx, blob(ns), blob(key), value); err != nil {
		return fmt.Errorf("sqlite: put: %w", err)
	}
	return nil
}

func (t *txn) Delete(ctx context.Context, ns, key string) error {
	if _, err := t.stmt(ctx, stDelete).ExecContext(ctx, blob(ns), blob(key)); err != nil {
		return fmt.Errorf("sqlite: delete: %w", err)
	}
	return nil
}

func (t *txn) Scan(ctx context.Context, ns, prefix, after string, limit int) ([]store.KeyValue, bool, error) {
	if limit <= 0 {
		return nil, false, fmt.Errorf("sqlite: scan with limit %d", limit)
	}
	// One row more than the page: whether it exists is exactly whether more entries follow.
	n := limit + 1
	lo, loIncl := prefix, true
	if after != "" && after >= prefix {
		lo, loIncl = after, false
	}
	hi, hasHi := pdk.PrefixEnd(prefix)
	var (
		rows *sql.Rows
		err  error
	)
	switch {
	case hasHi && lo >= hi:
		return nil, false, nil // after is past every key with the prefix
	case lo == "":
		rows, err = t.stmt(ctx, stScanAll).QueryContext(ctx, blob(ns), n)
	case loIncl && hasHi:
		rows, err = t.stmt(ctx, stScanGELT).QueryContext(ctx, blob(ns), blob(lo), blob(hi), n)
	case loIncl:
		rows, err = t.stmt(ctx, stScanGE).QueryContext(ctx, blob(ns), blob(lo), n)
	case hasHi:
		rows, err = t.stmt(ctx, stScanGTLT).QueryContext(ctx, blob(ns), blob(lo), blob(hi), n)
	default:
		rows, err = t.stmt(ctx, stScanGT).QueryContext(ctx, blob(ns), blob(lo), n)
	}
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: scan: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var page []store.KeyValue
	more := false
	for rows.Next() {
		if len(page) == limit {
			more = true
			break
		}
		var kv store.KeyValue
		if err := rows.Scan(&kv.Key, &kv.Value); err != nil {
			return nil, false, fmt.Errorf("sqlite: scan: %w", err)
		}
		if kv.Value == nil {
			kv.Value = []byte{}
		}
		page = append(page, kv)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("sqlite: scan: %w", err)
	}
	if err := rows.Close(); err != nil {
		return nil, false, fmt.Errorf("sqlite: scan: %w", err)
	}
	return page, more, nil
}

func (t *txn) Commit(ctx context.Context) error {
	if err := t.tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// Rollback ends the transaction. A transaction database/sql already rolled back because its
// context ended is not an error.
func (t *txn) Rollback() error {
	if err := t.tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("sqlite: rollback: %w", err)
	}
	return nil
}
