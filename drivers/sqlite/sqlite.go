package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	msqlite "modernc.org/sqlite"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// Name is the name the driver registers under.
const Name = "sqlite"

// Version is the driver's own version, reported in pdk.Info together with the SQLite version.
const Version = "1"

// SchemaVersion is the version of the on-disk schema this driver writes and understands,
// stored in the database file's PRAGMA user_version. A file with a larger user_version is
// refused.
const SchemaVersion = 1

// DefaultBusyTimeout is how long a connection waits for a lock held by another connection
// (another process, or another store on the same file) before failing with SQLITE_BUSY.
const DefaultBusyTimeout = 5 * time.Second

func init() {
	pdk.DeclareDSN(Name, pdk.DSNFile)
	store.Register(Name, func(ctx context.Context, dsn string) (store.Store, error) {
		if store.ReadOnlyOpen(ctx) {
			return Open(ctx, dsn, WithReadOnly())
		}
		return Open(ctx, dsn)
	})
}

// Options are the driver's settings: the With functions set them one at a time, and a driver
// artifact decodes them whole from a manifest's "options" (pdk.DecodeOptions onto
// DefaultOptions; the JSON names are in the tags) and passes them with WithOptions. Open and
// NewDriver refuse an invalid value with an error naming the option, whichever way it was set.
type Options struct {
	// BusyTimeout is how long a connection waits for a lock held by another connection before
	// giving up (default DefaultBusyTimeout). Within one store the driver never waits on
	// itself; the timeout matters when several processes or stores share the file. Zero means
	// fail at once; it must not be negative. JSON "busy_timeout": a duration string.
	BusyTimeout pdk.Duration `json:"busy_timeout"`
	// ReadConns is the size of the reader pool: how many View transactions can run at the
	// same time before further ones wait for a connection. The default is twice the number of
	// CPUs, at least 4 and at most 32; it must be at least 1. JSON "read_conns".
	ReadConns int `json:"read_conns"`
	// ReadOnly opens an existing store without writing anything: no file is created (a
	// missing one is store.ErrNoStore), no schema recorded, and every connection is read-only
	// (SQLite's mode=ro); Update fails with store.ErrReadOnly. store.OpenReadOnly sets it, and
	// a guest given a read-only open; it is not a manifest option.
	ReadOnly bool `json:"-"`
}

// DefaultOptions returns the options a store has when none is given.
func DefaultOptions() Options {
	return Options{BusyTimeout: pdk.Duration(DefaultBusyTimeout), ReadConns: defaultReadConns()}
}

// Validate refuses an invalid value, naming the option (pdk.DecodeOptions calls it).
func (o Options) Validate() error {
	switch {
	case o.BusyTimeout < 0:
		return fmt.Errorf("sqlite: option busy_timeout %q: must not be negative", time.Duration(o.BusyTimeout).String())
	case o.ReadConns < 1:
		return fmt.Errorf("sqlite: option read_conns %d: must be at least 1", o.ReadConns)
	}
	return nil
}

// Option configures Open and NewDriver.
type Option func(*Options)

// WithOptions sets every option at once, to o.
func WithOptions(o Options) Option { return func(c *Options) { *c = o } }

// WithBusyTimeout sets Options.BusyTimeout.
func WithBusyTimeout(d time.Duration) Option {
	return func(c *Options) { c.BusyTimeout = pdk.Duration(d) }
}

// WithReadOnly sets Options.ReadOnly.
func WithReadOnly() Option { return func(c *Options) { c.ReadOnly = true } }

// WithReadConns sets Options.ReadConns.
func WithReadConns(n int) Option { return func(c *Options) { c.ReadConns = n } }

func defaultReadConns() int {
	return min(max(runtime.NumCPU()*2, 4), 32)
}

// Open opens (creating if needed, unless WithReadOnly) the SQLite store at path and returns it
// as a store.Store. The directory of path must exist.
func Open(ctx context.Context, path string, opts ...Option) (store.Store, error) {
	d, err := NewDriver(ctx, path, opts...)
	if err != nil {
		return nil, err
	}
	if d.(*driver).readOnly {
		return pdk.NewStore(d, pdk.WithReadOnly()), nil
	}
	return pdk.NewStore(d), nil
}

// NewDriver opens (creating if needed) the SQLite database at path and returns it as a
// pdk.Driver, for hosts that serve drivers (the wasm and plugin guests) rather than use them
// through a Store. The directory of path must exist. The caller owns the driver and must Close
// it; pdk.NewStore takes that ownership over.
func NewDriver(ctx context.Context, path string, opts ...Option) (pdk.Driver, error) {
	cfg := DefaultOptions()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	abs, err := checkPath(path)
	if err != nil {
		return nil, err
	}
	d := &driver{path: abs, readOnly: cfg.ReadOnly}
	if d.readOnly {
		if _, err := os.Stat(abs); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("sqlite: open %s read-only: %w: the file does not exist (a read-only open creates nothing)", path, store.ErrNoStore)
		}
	}
	if err := d.open(ctx, cfg); err != nil {
		d.closePools()
		return nil, err
	}
	return d, nil
}

// checkPath validates path and returns it made absolute. It does not create anything.
func checkPath(path string) (string, error) {
	switch {
	case path == "":
		return "", errors.New("sqlite: empty database path")
	case path == ":memory:" || strings.HasPrefix(path, "file:"):
		return "", fmt.Errorf("sqlite: %q: the sqlite driver takes a file path, not a SQLite URI or :memory: (use the inmem driver for an in-memory store)", path)
	case strings.IndexByte(path, 0) >= 0:
		return "", fmt.Errorf("sqlite: %q: path contains a NUL byte", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("sqlite: %s: %w", path, err)
	}
	dir := filepath.Dir(abs)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("sqlite: open %s: directory %s does not exist (the driver creates the database file, never a directory: make the directory first): %w", path, dir, fs.ErrNotExist)
	case err != nil:
		return "", fmt.Errorf("sqlite: open %s: directory %s: %w", path, dir, err)
	case !st.IsDir():
		return "", fmt.Errorf("sqlite: open %s: %s is not a directory", path, dir)
	}
	if st, err := os.Stat(abs); err == nil && st.IsDir() {
		return "", fmt.Errorf("sqlite: open %s: is a directory, not a database file", path)
	}
	return abs, nil
}

// uri renders abs as a SQLite file: URI followed by the given query. Every byte outside a
// small safe set is percent-encoded, so no byte of the path ('?', '#', '%', ...) can be read
// as URI syntax, and the query is ours alone.
func uri(abs, query string) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows volume: file:/C:/dir/x.db
	}
	var b strings.Builder
	b.WriteString("file:")
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '/', c == '-', c == '_', c == '.', c == '~', c == ':':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	b.WriteByte('?')
	b.WriteString(query)
	return b.String()
}

// Statement indexes. The read statements come first: the reader pool prepares only those.
const (
	stGet      = iota
	stScanAll  // the whole namespace
	stScanGE   // k >= lo
	stScanGT   // k > lo
	stScanGELT // k >= lo AND k < hi
	stScanGTLT // k > lo AND k < hi
	stPut
	stDelete
	numStmts
	numReadStmts = stPut
)

const scanCols = `SELECT k, v FROM kv WHERE ns = ?1`

var stmtSQL = [numStmts]string{
	stGet:      `SELECT v FROM kv WHERE ns = ?1 AND k = ?2`,
	stScanAll:  scanCols + ` ORDER BY k LIMIT ?2`,
	stScanGE:   scanCols + ` AND k >= ?2 ORDER BY k LIMIT ?3`,
	stScanGT:   scanCols + ` AND k > ?2 ORDER BY k LIMIT ?3`,
	stScanGELT: scanCols + ` AND k >= ?2 AND k < ?3 ORDER BY k LIMIT ?4`,
	stScanGTLT: scanCols + ` AND k > ?2 AND k < ?3 ORDER BY k LIMIT ?4`,
	stPut:      `INSERT INTO kv (ns, k, v) VALUES (?1, ?2, ?3) ON CONFLICT (ns, k) DO UPDATE SET v = excluded.v`,
	stDelete:   `DELETE FROM kv WHERE ns = ?1 AND k = ?2`,
}

// driver is the pdk.Driver. Its two pools share one file: writer has exactly one connection,
// whose transactions are BEGIN IMMEDIATE; reader has several, used for read-only
// transactions.
type driver struct {
	path           string
	sqliteVersion  string
	writer, reader *sql.DB
	wstmts         [numStmts]*sql.Stmt
	rstmts         [numStmts]*sql.Stmt // only the first numReadStmts are set
	readOnly       bool                // Options.ReadOnly: every connection mode=ro, no schema made
}

func (d *driver) open(ctx context.Context, cfg Options) error {
	// The values are ours alone (the path cannot inject any: uri escapes it).
	common := "_pragma=busy_timeout(" + strconv.FormatInt(time.Duration(cfg.BusyTimeout).Milliseconds(), 10) + ")" +
		"&_pragma=synchronous(FULL)"
	writer := common + "&_pragma=journal_mode(WAL)&_txlock=immediate"
	if d.readOnly { // no journal_mode: setting it writes the file
		common += "&mode=ro"
		writer = common + "&_query_only=1"
	}
	var err error
	// Opening a pool only checks the DSN; connections are made on first use.
	d.writer, err = openPool(uri(d.path, writer), 1)
	if err != nil {
		return d.openErr(err)
	}
	if err := d.initSchema(ctx); err != nil {
		return err
	}
	// The schema exists and the file is in WAL mode (a persistent setting) before any reader
	// connects. query_only is a second guard: a reader connection cannot write.
	d.reader, err = openPool(uri(d.path, common+"&_query_only=1"), cfg.ReadConns)
	if err != nil {
		return d.openErr(err)
	}
	if err := d.reader.QueryRowContext(ctx, `SELECT sqlite_version()`).Scan(&d.sqliteVersion); err != nil {
		return d.openErr(err)
	}
	for i := range numStmts {
		if d.wstmts[i], err = d.writer.PrepareContext(ctx, stmtSQL[i]); err != nil {
			return d.openErr(fmt.Errorf("prepare %q: %w", stmtSQL[i], err))
		}
		if i < numReadStmts {
			if d.rstmts[i], err = d.reader.PrepareContext(ctx, stmtSQL[i]); err != nil {
				return d.openErr(fmt.Errorf("prepare %q: %w", stmtSQL[i], err))
			}
		}
	}
	return nil
}

// openPool returns a pool of at most conns connections to dsn, all kept open: an idle
// connection closed and reopened would lose its prepared statements.
func openPool(dsn string, conns int) (*sql.DB, error) {
	// The connector is modernc's own driver, whatever else is registered as "sqlite".
	c, err := msqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return db, nil
}

// sqliteNotADB is SQLite's SQLITE_NOTADB result code: the file is not a database.
const sqliteNotADB = 26

// openErr wraps an error met while opening, naming the path, and recognizing a file that is
// not a SQLite database.
func (d *driver) openErr(err error) error {
	if se, ok := errors.AsType[*msqlite.Error](err); ok && se.Code()&0xff == sqliteNotADB {
		return fmt.Errorf("sqlite: open %s: the file is not a SQLite database (or is encrypted or corrupt): %w", d.path, err)
	}
	return fmt.Errorf("sqlite: open %s: %w", d.path, err)
}

// initSchema checks the file's schema version, in a read transaction, and creates the schema
// of a new file, in a write transaction that checks again. Opening an existing store therefore
// does not wait for the write lock. It also checks the file really is in WAL mode: SQLite
// silently keeps the old journal mode where WAL is impossible, and the driver's concurrency
// depends on it.
func (d *driver) initSchema(ctx context.Context) error {
	ready, err := d.checkSchema(ctx, false)
	if err == nil && !ready && d.readOnly {
		return fmt.Errorf("sqlite: open %s read-only: %w: the file is empty (a read-only open records no schema)", d.path, store.ErrNoStore)
	}
	if err == nil && !ready {
		ready, err = d.checkSchema(ctx, true)
	}
	if err != nil {
		return err
	}
	if !ready {
		return fmt.Errorf("sqlite: open %s: schema not created", d.path) // unreachable
	}
	var mode string
	if err := d.writer.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return d.openErr(err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("sqlite: open %s: the database is in journal mode %q, not WAL (is the file on a filesystem without shared-memory support?)", d.path, mode)
	}
	return nil
}

// checkSchema reports whether the file holds this driver's schema. If the file is new
// (user_version 0 and no schema objects) and create is set, it creates the schema; if create
// is not set it reports false. Anything else is an error.
func (d *driver) checkSchema(ctx context.Context, create bool) (ready bool, err error) {
	// ReadOnly begins a deferred transaction even on the writer pool (_txlock applies to
	// read-write transactions only); otherwise BEGIN IMMEDIATE.
	tx, err := d.writer.BeginTx(ctx, &sql.TxOptions{ReadOnly: !create})
	if err != nil {
		return false, d.openErr(err)
	}
	defer func() { _ = tx.Rollback() }()
	var version int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return false, d.openErr(err)
	}
	switch {
	case version > SchemaVersion:
		return false, fmt.Errorf("sqlite: open %s: the file has schema version %d, newer than this driver's %d; use a newer Dockyard", d.path, version, SchemaVersion)
	case version == SchemaVersion:
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'kv'`).Scan(&n); err != nil {
			return false, d.openErr(err)
		}
		if n != 1 {
			return false, fmt.Errorf("sqlite: open %s: the file has schema version %d but no kv table: not a Dockyard store, or damaged", d.path, version)
		}
		return true, nil
	case version < 0:
		return false, fmt.Errorf("sqlite: open %s: the file has schema version %d: not a Dockyard store", d.path, version)
	}
	// version == 0: a new, empty file, or some other application's database.
	var objects int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master`).Scan(&objects); err != nil {
		return false, d.openErr(err)
	}
	if objects != 0 {
		return false, fmt.Errorf("sqlite: open %s: the file is a SQLite database but not a Dockyard store (user_version 0, %d schema objects); refusing to modify it", d.path, objects)
	}
	if !create {
		return false, nil
	}
	for _, q := range []string{
		`CREATE TABLE kv (ns BLOB NOT NULL, k BLOB NOT NULL, v BLOB NOT NULL, PRIMARY KEY (ns, k)) WITHOUT ROWID`,
		`PRAGMA user_version = ` + strconv.Itoa(SchemaVersion),
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return false, d.openErr(fmt.Errorf("create schema: %w", err))
		}
	}
	if err := tx.Commit(); err != nil {
		return false, d.openErr(fmt.Errorf("create schema: %w", err))
	}
	return true, nil
}

func (d *driver) Info() pdk.Info {
	v := Version
	if d.sqliteVersion != "" {
		v += " (SQLite " + d.sqliteVersion + ")"
	}
	return pdk.Info{
		Name:    Name,
		Version: v,
		Caps:    pdk.Capabilities{Durable: true, ConcurrentReaders: true},
	}
}

func (d *driver) Begin(ctx context.Context, writable bool) (pdk.Txn, error) {
	if writable && d.readOnly { // the adapter refuses first; a guest's dispatcher calls Begin itself
		return nil, fmt.Errorf("sqlite: %s: %w: the store was opened read-only", d.path, store.ErrReadOnly)
	}
	if writable {
		tx, err := d.writer.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock)
		if err != nil {
			return nil, fmt.Errorf("sqlite: begin write transaction: %w", err)
		}
		return &txn{tx: tx, stmts: &d.wstmts}, nil
	}
	tx, err := d.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}) // deferred BEGIN
	if err != nil {
		return nil, fmt.Errorf("sqlite: begin read transaction: %w", err)
	}
	return &txn{tx: tx, stmts: &d.rstmts}, nil
}

// Ping checks the reader pool can read the store. It does not touch the writer pool, whose one
// connection an open Update holds: a Ping must not wait for, or deadlock with, a writer.
func (d *driver) Ping(ctx context.Context) error {
	var one int
	err := d.reader.QueryRowContext(ctx, `SELECT 1 FROM kv LIMIT 1`).Scan(&one)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: ping %s: %w", d.path, err)
	}
	return nil
}

func (d *driver) Close() error {
	if err := d.closePools(); err != nil {
		return fmt.Errorf("sqlite: close %s: %w", d.path, err)
	}
	return nil
}

// closePools closes the statements and both pools, whichever of them exist. Readers close
// first, so the writer's connection is the last one and SQLite checkpoints the log into the
// database file and removes it.
func (d *driver) closePools() error {
	var errs []error
	for _, set := range []*[numStmts]*sql.Stmt{&d.rstmts, &d.wstmts} {
		for i, s := range set {
			if s != nil {
				errs = append(errs, s.Close())
				set[i] = nil
			}
		}
	}
	for _, db := range []**sql.DB{&d.reader, &d.writer} {
		if *db != nil {
			errs = append(errs, (*db).Close())
			*db = nil
		}
	}
	return errors.Join(errs...)
}
