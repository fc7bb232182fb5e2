package bench

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dockyard/dockyard/drivers/postgres"
	"github.com/dockyard/dockyard/internal/pgtest"
	"github.com/dockyard/dockyard/store"
)

// The PostgreSQL implementations, each in a fresh schema of the test server (internal/pgtest:
// DOCKYARD_TEST_POSTGRES, or a throwaway server that TestMain stops): the postgres driver
// through the seam, and the same operations in plain pgx on the same table layout. Without a
// server they end through testenv.Unavailable (a loud skip locally, a failure under CI=true).
const (
	implPostgres = "postgres"
	implPgx      = "pgx"
)

// openPostgres opens the postgres driver, through store.Open and its DSN, in a fresh schema.
func openPostgres(ctx context.Context, tb testing.TB) (*storeImpl, error) {
	s, err := store.Open(ctx, "postgres", pgtest.DSN(tb))
	if err != nil {
		return nil, err
	}
	return &storeImpl{s: s}, nil
}

// The pgx baseline's SQL: the postgres driver's table layout and statements (drivers/postgres,
// newQueries) on its default table.
const (
	pgCreate = `CREATE TABLE IF NOT EXISTS ` + postgres.DefaultTable + ` (ns bytea NOT NULL, k bytea NOT NULL, v bytea NOT NULL, PRIMARY KEY (ns, k))`
	pgGet    = `SELECT v FROM ` + postgres.DefaultTable + ` WHERE ns = $1 AND k = $2`
	pgPut    = `INSERT INTO ` + postgres.DefaultTable + ` (ns, k, v) VALUES ($1, $2, $3) ON CONFLICT (ns, k) DO UPDATE SET v = EXCLUDED.v`
	pgScan   = `SELECT k, v FROM ` + postgres.DefaultTable + ` WHERE ns = $1 AND k >= $2 AND k < $3 ORDER BY k`
)

// readTx is the isolation the driver gives a View.
var readTx = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}

// pgxImpl is what an application would write with pgx alone: a connection for reads and one
// for writes (as the driver has), pgx's statement cache, and each operation in a transaction
// the idiomatic way, Begin, the statements (100 Puts as one pgx.Batch), then Commit or
// Rollback, each a round trip. It takes no lock row and keeps no namespace catalog: those are
// the driver's, part of what the comparison measures.
type pgxImpl struct {
	reader, writer *pgx.Conn
}

func openPgx(ctx context.Context, tb testing.TB) (_ *pgxImpl, err error) {
	dsn := pgtest.DSN(tb)
	im := &pgxImpl{}
	defer func() {
		if err != nil {
			_ = im.close()
		}
	}()
	if im.reader, err = pgx.Connect(ctx, dsn); err != nil {
		return nil, err
	}
	if im.writer, err = pgx.Connect(ctx, dsn); err != nil {
		return nil, err
	}
	if _, err = im.writer.Exec(ctx, pgCreate); err != nil {
		return nil, err
	}
	return im, nil
}

func (im *pgxImpl) get(ctx context.Context, key string) ([]byte, error) {
	tx, err := im.reader.BeginTx(ctx, readTx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var v []byte
	err = tx.QueryRow(ctx, pgGet, []byte(ns), []byte(key)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNotFound
	}
	return v, err
}

func (im *pgxImpl) put(ctx context.Context, key string, value []byte) error {
	tx, err := im.writer.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, pgPut, []byte(ns), []byte(key), value); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func (im *pgxImpl) putMany(ctx context.Context, keys []string, value []byte) error {
	tx, err := im.writer.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	b := &pgx.Batch{}
	for _, k := range keys {
		b.Queue(pgPut, []byte(ns), []byte(k), value)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// scan reads the whole prefix with one query. The upper bound is the prefix with its last byte
// incremented (the benchmark prefixes never end in 0xff).
func (im *pgxImpl) scan(ctx context.Context, prefix string) ([]store.KeyValue, error) {
	hi := []byte(prefix)
	hi[len(hi)-1]++
	tx, err := im.reader.BeginTx(ctx, readTx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	rows, err := tx.Query(ctx, pgScan, []byte(ns), []byte(prefix), hi)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var kvs []store.KeyValue
	for rows.Next() {
		var k, v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		kvs = append(kvs, store.KeyValue{Key: string(k), Value: v})
	}
	return kvs, rows.Err()
}

func (im *pgxImpl) load(ctx context.Context, l layout) error {
	tx, err := im.writer.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	b := &pgx.Batch{}
	for i := range l.n() {
		b.Queue(pgPut, []byte(ns), []byte(l.key(i)), initialValue(i))
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func (im *pgxImpl) close() error {
	var errs []error
	for _, c := range []*pgx.Conn{im.reader, im.writer} {
		if c != nil {
			errs = append(errs, c.Close(context.Background()))
		}
	}
	return errors.Join(errs...)
}

// TestPgxReadsPostgresTable: the pgx baseline reads a table written by the postgres driver and
// finds the same data: it uses the driver's layout and key encoding, not merely a similar one.
func TestPgxReadsPostgresTable(t *testing.T) {
	ctx := context.Background()
	l := layout{groups: 3, perGroup: 50}
	dsn := pgtest.DSN(t)
	s, err := store.Open(ctx, "postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := (&storeImpl{s: s}).load(ctx, l); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	im := &pgxImpl{}
	defer func() { _ = im.close() }()
	if im.reader, err = pgx.Connect(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	initial := map[string][]byte{}
	for i := range l.n() {
		initial[l.key(i)] = initialValue(i)
	}
	for _, p := range []string{"g", "g00/", "g02/", "g01/00006"} {
		got, err := im.scan(ctx, p)
		if err != nil {
			t.Fatalf("scan %q: %v", p, err)
		}
		if want := modelScan(initial, p); !sameKVs(got, want) {
			t.Fatalf("scan %q: %d entries, want %d", p, len(got), len(want))
		}
	}
}
