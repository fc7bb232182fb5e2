package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/dockyard/dockyard/store"
)

// SchemaVersion is the version of the table layout this driver writes and understands,
// recorded in the meta table. A store with a larger version is refused.
const SchemaVersion = 1

// metaSuffix makes the meta table's name from the store's table name.
const metaSuffix = "_meta"

// schemaSteps are the forward-only steps that bring a store's tables from version i to i+1
// (step i, 0-based). Each runs once, in the transaction that holds the meta row's lock and
// records the new version. A released step is never edited; a change is a new step.
var schemaSteps = []func(q *queries) []string{
	func(q *queries) []string {
		return []string{`CREATE TABLE ` + q.kv + ` (ns bytea NOT NULL, k bytea NOT NULL, v bytea NOT NULL, PRIMARY KEY (ns, k))`}
	},
}

// queries holds the driver's SQL, its identifiers quoted.
type queries struct {
	kv, meta string // the quoted table names

	get, put, putEmpty, del                     string
	scanAll, scanGE, scanGT, scanGELT, scanGTLT string
	lock                                        string // the writers' lock and schema check (lockSQL)
}

// The transaction statements.
const (
	// Readers: a snapshot taken at the first statement, held to the end, never waiting.
	beginRead = `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`
	// Writers: READ COMMITTED, so that each statement after the lock sees every commit
	// before it (see the package doc).
	beginWrite = `BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE`
	commit     = `COMMIT`
	rollback   = `ROLLBACK`
)

func newQueries(table string) queries {
	kv := pgx.Identifier{table}.Sanitize()
	meta := pgx.Identifier{table + metaSuffix}.Sanitize()
	const cols = `SELECT k, v FROM `
	return queries{
		kv:   kv,
		meta: meta,
		get:  `SELECT v FROM ` + kv + ` WHERE ns = $1 AND k = $2`,
		put:  `INSERT INTO ` + kv + ` (ns, k, v) VALUES ($1, $2, $3) ON CONFLICT (ns, k) DO UPDATE SET v = EXCLUDED.v`,
		// An empty value over an empty value (the adapter's namespace catalog entry, written by
		// every Update that puts) leaves the row as it is instead of writing a new version.
		putEmpty: `INSERT INTO ` + kv + ` AS cur (ns, k, v) VALUES ($1, $2, ''::bytea) ON CONFLICT (ns, k) DO UPDATE SET v = EXCLUDED.v WHERE cur.v <> ''::bytea`,
		del:      `DELETE FROM ` + kv + ` WHERE ns = $1 AND k = $2`,
		scanAll:  cols + kv + ` WHERE ns = $1 ORDER BY k LIMIT $2`,
		scanGE:   cols + kv + ` WHERE ns = $1 AND k >= $2 ORDER BY k LIMIT $3`,
		scanGT:   cols + kv + ` WHERE ns = $1 AND k > $2 ORDER BY k LIMIT $3`,
		scanGELT: cols + kv + ` WHERE ns = $1 AND k >= $2 AND k < $3 ORDER BY k LIMIT $4`,
		scanGTLT: cols + kv + ` WHERE ns = $1 AND k > $2 AND k < $3 ORDER BY k LIMIT $4`,
		lock:     lockSQL(meta),
	}
}

// lockVersionMark starts the reason the lock statement fails with when the schema version is
// not this driver's (no quote in it: it goes into a SQL literal).
const lockVersionMark = "dockyard: schema version "

// lockSQL returns the writers' lock statement: it locks the meta row (SELECT ... FOR UPDATE)
// and checks, on the server, that the row exists and records SchemaVersion. The check is the
// server's so that a COMMIT queued behind the lock in the same pipeline is skipped when it
// fails (after an error the server skips the rest of the pipeline). Plain SQL has no ASSERT,
// so a failed check is a failed cast of the reason to int, and the reason is in the error
// message: `invalid input syntax for type integer: "dockyard: schema version 2, want 1"`. The
// scalar subquery is NULL when the row is missing; OFFSET 0 makes it run, and lock, once.
func lockSQL(meta string) string {
	v := strconv.Itoa(SchemaVersion)
	return `SELECT CASE WHEN v = ` + v + ` THEN v ELSE ('` + lockVersionMark + `' || coalesce(v::text, 'missing (no meta row)') || ', want ` + v + `')::int END` +
		` FROM (SELECT (SELECT version FROM ` + meta + ` WHERE id = 1 FOR UPDATE) AS v OFFSET 0) AS lock`
}

// SQLSTATE codes the driver expects.
const (
	codeUndefinedTable = "42P01"
	codeDuplicateTable = "42P07"
	codeDuplicateObj   = "42710" // the table's row type, created with it, already exists
	codeUniqueViolated = "23505"
	codeQueryCanceled  = "57014"
)

// ensureSchema brings the store's tables to SchemaVersion, or refuses a newer store. Opening a
// store that is up to date reads one row; otherwise the steps run in one transaction holding
// the meta row's lock, so that processes opening the store at the same moment apply each step
// once: the first takes the lock and runs them, the others wait and then find nothing to do.
func (d *driver) ensureSchema(ctx context.Context, c *pgx.Conn) error {
	v, err := d.schemaVersion(ctx, c, false)
	if err != nil || v == SchemaVersion {
		return err
	}
	if d.readOnly && v == 0 {
		return fmt.Errorf("postgres: open table %s read-only: %w: the database has no store there (no %s; a read-only open creates nothing)", d.q.kv, store.ErrNoStore, d.q.meta)
	}
	if d.readOnly {
		return fmt.Errorf("postgres: open table %s read-only: it has schema version %d, older than this driver's %d, and a read-only open does not upgrade it: open it once read-write", d.q.kv, v, SchemaVersion)
	}
	// The meta table and its row, each in its own statement outside any transaction.
	// CREATE TABLE IF NOT EXISTS is not safe against itself: a process that loses the race
	// gets a unique violation in the catalog, or "already exists" of the table or of its row
	// type, after the winner has committed, and simply tries again.
	create := `CREATE TABLE IF NOT EXISTS ` + d.q.meta + ` (id int PRIMARY KEY CHECK (id = 1), version int NOT NULL)`
	for attempt := 1; ; attempt++ {
		_, err := c.Exec(ctx, create)
		if err == nil {
			break
		}
		if attempt == 3 || !errCode(err, codeDuplicateTable, codeDuplicateObj, codeUniqueViolated) {
			return d.errorf("create the meta table "+d.q.meta, err)
		}
	}
	if _, err := c.Exec(ctx, `INSERT INTO `+d.q.meta+` (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING`); err != nil {
		return d.errorf("create the meta row", err)
	}
	tx, err := c.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return d.errorf("update the schema", err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if v, err = d.schemaVersion(ctx, tx.Conn(), true); err != nil || v == SchemaVersion {
		return err
	}
	for i := v; i < SchemaVersion; i++ {
		for _, stmt := range schemaSteps[i](&d.q) {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				if errCode(err, codeDuplicateTable) {
					return fmt.Errorf("postgres: table %s already exists but is not a Dockyard store (%s records schema version %d): refusing to use it: %w", d.q.kv, d.q.meta, i, err)
				}
				return d.errorf(fmt.Sprintf("schema step %d", i+1), err)
			}
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE `+d.q.meta+` SET version = $1 WHERE id = 1`, SchemaVersion); err != nil {
		return d.errorf("record the schema version", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return d.errorf("commit the schema", err)
	}
	return nil
}

// schemaVersion reads the store's schema version: 0 when the meta table or its row is
// missing, an error when it is newer than this driver's. With lock set it takes the meta row's
// lock, which must then exist.
func (d *driver) schemaVersion(ctx context.Context, c *pgx.Conn, lock bool) (int, error) {
	q := `SELECT version FROM ` + d.q.meta + ` WHERE id = 1`
	if lock {
		q += ` FOR UPDATE`
	}
	var v int
	err := c.QueryRow(ctx, q).Scan(&v)
	switch {
	case errors.Is(err, pgx.ErrNoRows) && !lock, errCode(err, codeUndefinedTable) && !lock:
		return 0, nil
	case err != nil:
		return 0, d.errorf("read the schema version from "+d.q.meta, err)
	case v > SchemaVersion:
		return 0, fmt.Errorf("postgres: table %s has schema version %d, newer than this driver's %d; use a newer Dockyard", d.q.kv, v, SchemaVersion)
	case v < 0:
		return 0, fmt.Errorf("postgres: table %s records schema version %d: not a Dockyard store", d.q.meta, v)
	}
	return v, nil
}
