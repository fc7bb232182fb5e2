package bench

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, for the modernc baseline

	_ "github.com/dockyard/dockyard/drivers/inmem"
	_ "github.com/dockyard/dockyard/drivers/sqlite"
	"github.com/dockyard/dockyard/store"
)

// ns is the one namespace every implementation uses (a bucket in bbolt).
const ns = "bench"

// valueSize is the size of every value written.
const valueSize = 100

// layout is the initial content of every database: groups*perGroup keys, the keys of a group
// sharing the prefix groupPrefix(g).
type layout struct {
	groups, perGroup int
}

func (l layout) n() int { return l.groups * l.perGroup }

// key returns the i-th key, 0 <= i < l.n(). Keys sort in i order.
func (l layout) key(i int) string {
	return fmt.Sprintf("%s%06d", groupPrefix(i/l.perGroup), i)
}

// keys returns every key, in order.
func (l layout) keys() []string {
	ks := make([]string, l.n())
	for i := range ks {
		ks[i] = l.key(i)
	}
	return ks
}

func groupPrefix(g int) string { return fmt.Sprintf("g%02d/", g) }

// initialValue is the value key i starts with: valueSize bytes, different for each key.
func initialValue(i int) []byte {
	v := bytes.Repeat([]byte{byte('a' + i%26)}, valueSize)
	copy(v, fmt.Sprintf("value-%06d-", i))
	return v
}

// impl is one implementation under measurement. Each method is exactly one unit of work the
// benchmarks time: get is one Get in one read transaction, put one Put in one committed write
// transaction, putMany len(keys) Puts in one committed write transaction, and scan one prefix
// scan in one read transaction, materialised as []store.KeyValue.
type impl interface {
	get(ctx context.Context, key string) ([]byte, error)
	put(ctx context.Context, key string, value []byte) error
	putMany(ctx context.Context, keys []string, value []byte) error
	scan(ctx context.Context, prefix string) ([]store.KeyValue, error)
	// load writes the layout's initial content in one transaction (not timed).
	load(ctx context.Context, l layout) error
	close() error
}

// implNames is the order in which implementations run and are reported.
var implNames = []string{"inmem", "sqlite", "modernc", "bbolt", implWasm, implWasmTrusted, implWasmC, implSQLitePlugin, implPostgres, implPgx, implEtcd, implEtcdClient}

// openImpl opens a new, empty implementation named name, its files (if any) in a new
// temporary directory of tb, and closes it when tb ends.
func openImpl(tb testing.TB, name string) impl {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	var (
		im  impl
		err error
	)
	switch name {
	case "inmem":
		var s store.Store
		s, err = store.Open(ctx, "inmem", "")
		im = &storeImpl{s: s}
	case "sqlite":
		var s store.Store
		s, err = store.Open(ctx, "sqlite", filepath.Join(dir, "sqlite.db"))
		im = &storeImpl{s: s}
	case "modernc":
		im, err = openModernc(ctx, filepath.Join(dir, "modernc.db"))
	case "bbolt":
		im, err = openBolt(filepath.Join(dir, "bbolt.db"))
	case implWasm, implWasmTrusted:
		im, err = openWasm(ctx, tb, name)
	case implWasmC:
		im, err = openWasmC(ctx, tb)
	case implSQLitePlugin:
		im, err = openSQLitePlugin(ctx, tb, dir)
	case implPostgres:
		im, err = openPostgres(ctx, tb)
	case implPgx:
		im, err = openPgx(ctx, tb)
	case implEtcd:
		im, err = openEtcd(ctx, tb)
	case implEtcdClient:
		im, err = openEtcdClient(ctx, tb)
	default:
		err = fmt.Errorf("unknown implementation %q", name)
	}
	if err != nil {
		tb.Fatalf("open %s: %v", name, err)
	}
	tb.Cleanup(func() {
		if err := im.close(); err != nil {
			tb.Errorf("close %s: %v", name, err)
		}
	})
	return im
}

// openLoaded is openImpl followed by loading l.
func openLoaded(tb testing.TB, name string, l layout) impl {
	tb.Helper()
	im := openImpl(tb, name)
	if err := im.load(context.Background(), l); err != nil {
		tb.Fatalf("load %s: %v", name, err)
	}
	return im
}

// storeImpl is a store.Store: the inmem and sqlite drivers.
type storeImpl struct{ s store.Store }

func (im *storeImpl) get(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := im.s.View(ctx, func(tx store.Tx) error {
		var err error
		v, err = tx.Get(ns, key)
		return err
	})
	return v, err
}

func (im *storeImpl) put(ctx context.Context, key string, value []byte) error {
	return im.s.Update(ctx, func(tx store.Tx) error {
		return tx.Put(ns, key, value)
	})
}

func (im *storeImpl) putMany(ctx context.Context, keys []string, value []byte) error {
	return im.s.Update(ctx, func(tx store.Tx) error {
		for _, k := range keys {
			if err := tx.Put(ns, k, value); err != nil {
				return err
			}
		}
		return nil
	})
}

func (im *storeImpl) scan(ctx context.Context, prefix string) ([]store.KeyValue, error) {
	var kvs []store.KeyValue
	err := im.s.View(ctx, func(tx store.Tx) error {
		var err error
		kvs, err = tx.Scan(ns, prefix)
		return err
	})
	return kvs, err
}

func (im *storeImpl) load(ctx context.Context, l layout) error {
	return im.s.Update(ctx, func(tx store.Tx) error {
		for i := range l.n() {
			if err := tx.Put(ns, l.key(i), initialValue(i)); err != nil {
				return err
			}
		}
		return nil
	})
}

func (im *storeImpl) close() error { return im.s.Close() }

// The modernc baseline's SQL: the sqlite driver's schema and statements (drivers/sqlite,
// stmtSQL), so that the only difference measured is the code around them.
const (
	sqlCreate = `CREATE TABLE IF NOT EXISTS kv (ns BLOB NOT NULL, k BLOB NOT NULL, v BLOB NOT NULL, PRIMARY KEY (ns, k)) WITHOUT ROWID`
	sqlGet    = `SELECT v FROM kv WHERE ns = ?1 AND k = ?2`
	sqlScan   = `SELECT k, v FROM kv WHERE ns = ?1 AND k >= ?2 AND k < ?3 ORDER BY k LIMIT ?4`
	sqlPut    = `INSERT INTO kv (ns, k, v) VALUES (?1, ?2, ?3) ON CONFLICT (ns, k) DO UPDATE SET v = excluded.v`
)

// The modernc baseline's connection settings: the sqlite driver's (drivers/sqlite, driver.open)
// with its default busy timeout.
const (
	dsnCommon = "_pragma=busy_timeout(5000)&_pragma=synchronous(FULL)"
	dsnWriter = dsnCommon + "&_pragma=journal_mode(WAL)&_txlock=immediate"
	dsnReader = dsnCommon + "&_query_only=1"
	readConns = 4 // the driver's default on 2 CPUs: min(max(2*NumCPU, 4), 32)
)

// moderncImpl is SQLite through database/sql, configured like the sqlite driver: a writer pool
// of one connection (BEGIN IMMEDIATE) and a query_only reader pool on the same WAL file, with
// prepared statements bound to each transaction.
type moderncImpl struct {
	writer, reader *sql.DB
	get1, scan1    *sql.Stmt // on reader
	put1           *sql.Stmt // on writer
}

// sqliteURI returns a SQLite file: URI for path with the given query. '%', '?' and '#' in the
// path are escaped so that the path cannot be read as URI syntax.
func sqliteURI(path, query string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23")
	return "file:" + r.Replace(filepath.ToSlash(path)) + "?" + query
}

func openModernc(ctx context.Context, path string) (_ *moderncImpl, err error) {
	im := &moderncImpl{}
	defer func() {
		if err != nil {
			_ = im.close()
		}
	}()
	if im.writer, err = sql.Open("sqlite", sqliteURI(path, dsnWriter)); err != nil {
		return nil, err
	}
	im.writer.SetMaxOpenConns(1)
	im.writer.SetMaxIdleConns(1)
	im.writer.SetConnMaxLifetime(0)
	im.writer.SetConnMaxIdleTime(0)
	if _, err = im.writer.ExecContext(ctx, sqlCreate); err != nil {
		return nil, err
	}
	if im.reader, err = sql.Open("sqlite", sqliteURI(path, dsnReader)); err != nil {
		return nil, err
	}
	im.reader.SetMaxOpenConns(readConns)
	im.reader.SetMaxIdleConns(readConns)
	im.reader.SetConnMaxLifetime(0)
	im.reader.SetConnMaxIdleTime(0)
	if im.get1, err = im.reader.PrepareContext(ctx, sqlGet); err != nil {
		return nil, err
	}
	if im.scan1, err = im.reader.PrepareContext(ctx, sqlScan); err != nil {
		return nil, err
	}
	if im.put1, err = im.writer.PrepareContext(ctx, sqlPut); err != nil {
		return nil, err
	}
	return im, nil
}

var errNotFound = errors.New("not found")

func (im *moderncImpl) get(ctx context.Context, key string) ([]byte, error) {
	tx, err := im.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	var v []byte
	err = tx.StmtContext(ctx, im.get1).QueryRowContext(ctx, []byte(ns), []byte(key)).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	return v, err
}

func (im *moderncImpl) put(ctx context.Context, key string, value []byte) error {
	tx, err := im.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := tx.StmtContext(ctx, im.put1).ExecContext(ctx, []byte(ns), []byte(key), value); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (im *moderncImpl) putMany(ctx context.Context, keys []string, value []byte) error {
	tx, err := im.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	st := tx.StmtContext(ctx, im.put1)
	for _, k := range keys {
		if _, err := st.ExecContext(ctx, []byte(ns), []byte(k), value); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

// scan reads the whole prefix with one query: the natural way to write it against SQLite
// directly. The upper bound is the prefix with its last byte incremented (the benchmark
// prefixes never end in 0xff).
func (im *moderncImpl) scan(ctx context.Context, prefix string) ([]store.KeyValue, error) {
	hi := []byte(prefix)
	hi[len(hi)-1]++
	tx, err := im.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	rows, err := tx.StmtContext(ctx, im.scan1).QueryContext(ctx, []byte(ns), []byte(prefix), hi, -1)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var kvs []store.KeyValue
	for rows.Next() {
		var kv store.KeyValue
		if err := rows.Scan(&kv.Key, &kv.Value); err != nil {
			return nil, err
		}
		kvs = append(kvs, kv)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return kvs, rows.Close()
}

func (im *moderncImpl) load(ctx context.Context, l layout) error {
	tx, err := im.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	st := tx.StmtContext(ctx, im.put1)
	for i := range l.n() {
		if _, err := st.ExecContext(ctx, []byte(ns), []byte(l.key(i)), initialValue(i)); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

func (im *moderncImpl) close() error {
	var errs []error
	for _, s := range []*sql.Stmt{im.get1, im.scan1, im.put1} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	// Readers first, so the writer's connection is the last and checkpoints the log.
	for _, db := range []*sql.DB{im.reader, im.writer} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}

// boltImpl is bbolt with its default options (fsync on every commit), one bucket per
// namespace.
type boltImpl struct{ db *bolt.DB }

var bucket = []byte(ns)

func openBolt(path string) (*boltImpl, error) {
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	})
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return &boltImpl{db: db}, nil
}

// get copies the value out: bbolt's slice is valid only inside the transaction.
func (im *boltImpl) get(_ context.Context, key string) ([]byte, error) {
	var v []byte
	err := im.db.View(func(tx *bolt.Tx) error {
		got := tx.Bucket(bucket).Get([]byte(key))
		if got == nil {
			return errNotFound
		}
		v = append([]byte{}, got...)
		return nil
	})
	return v, err
}

func (im *boltImpl) put(_ context.Context, key string, value []byte) error {
	return im.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).Put([]byte(key), value)
	})
}

func (im *boltImpl) putMany(_ context.Context, keys []string, value []byte) error {
	return im.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		for _, k := range keys {
			if err := b.Put([]byte(k), value); err != nil {
				return err
			}
		}
		return nil
	})
}

func (im *boltImpl) scan(_ context.Context, prefix string) ([]store.KeyValue, error) {
	var kvs []store.KeyValue
	err := im.db.View(func(tx *bolt.Tx) error {
		p := []byte(prefix)
		c := tx.Bucket(bucket).Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			kvs = append(kvs, store.KeyValue{Key: string(k), Value: append([]byte{}, v...)})
		}
		return nil
	})
	return kvs, err
}

func (im *boltImpl) load(_ context.Context, l layout) error {
	return im.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		for i := range l.n() {
			if err := b.Put([]byte(l.key(i)), initialValue(i)); err != nil {
				return err
			}
		}
		return nil
	})
}

func (im *boltImpl) close() error { return im.db.Close() }
