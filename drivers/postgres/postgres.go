package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// Name is the name the driver registers under.
const Name = "postgres"

// Version is the driver's own version, reported in pdk.Info together with the server's.
const Version = "1"

// DefaultTable is the table a store uses when neither the DSN nor WithTable names one.
const DefaultTable = "dockyard_kv"

// TableParam is the DSN parameter that names the store's table (see the package doc). The
// driver removes it from the DSN before connecting.
const TableParam = "dockyard_table"

// pingAfter is how long a connection may sit idle in its pool before it is pinged when taken
// out: a connection idle across a server restart is dead, and one round trip finds out before
// a transaction is begun on it. (It is pgxpool's default too; the driver sets it explicitly.)
const pingAfter = time.Second

// closeTimeout bounds closing a connection of Ping's own and rolling back a transaction.
const closeTimeout = 10 * time.Second

// maxTableLen is the longest table name: PostgreSQL's identifiers hold 63 bytes, and the
// meta table's name adds metaSuffix.
const maxTableLen = 63 - len(metaSuffix)

func init() {
	pdk.DeclareDSN(Name, pdk.DSNServer)
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
	// Table names the store's table; the store also uses the table <name>_meta. A name is 1
	// to 58 bytes of lower-case ASCII letters, digits and '_', not starting with a digit, so
	// that it means the same quoted or not. Empty is DefaultTable, or the DSN's dockyard_table
	// parameter; naming two different tables in the DSN and here is an error. JSON "table".
	Table string `json:"table"`
	// ReadConns is how many connections the store keeps for View transactions: how many can
	// run at once before further ones wait for a connection. The default is twice the number
	// of CPUs, at least 4 and at most 32; it must be at least 1. Update transactions use one
	// more connection of their own. JSON "read_conns".
	ReadConns int `json:"read_conns"`
	// ReadOnly opens an existing store and writes nothing: no table is created (a table
	// without the store's schema is store.ErrNoStore), every session runs with
	// default_transaction_read_only on, so the server itself refuses a write, and Update
	// fails with store.ErrReadOnly. store.OpenReadOnly sets it; it is not a manifest option.
	ReadOnly bool `json:"-"`

	tableSet bool      // WithTable was given, maybe with an empty (and so invalid) name
	net      *netHooks // WithDialFunc, WithLookupFunc (dial.go); nil for pgx's defaults
}

// DefaultOptions returns the options a store has when none is given.
func DefaultOptions() Options { return Options{ReadConns: defaultReadConns()} }

// Validate refuses an invalid value, naming the option (pdk.DecodeOptions calls it). The
// table's name is checked when the store opens, against the DSN's.
func (o Options) Validate() error {
	if o.ReadConns < 1 {
		return fmt.Errorf("postgres: option read_conns %d: must be at least 1", o.ReadConns)
	}
	return nil
}

// Option configures Open and NewDriver.
type Option func(*Options)

// WithOptions sets every option at once, to o.
func WithOptions(o Options) Option { return func(c *Options) { *c = o } }

// WithTable sets Options.Table; WithTable("") is an error, not the default.
func WithTable(name string) Option {
	return func(c *Options) { c.Table, c.tableSet = name, true }
}

// WithReadConns sets Options.ReadConns.
func WithReadConns(n int) Option { return func(c *Options) { c.ReadConns = n } }

// WithReadOnly sets Options.ReadOnly.
func WithReadOnly() Option { return func(c *Options) { c.ReadOnly = true } }

func defaultReadConns() int {
	return min(max(runtime.NumCPU()*2, 4), 32)
}

// Open connects to the PostgreSQL server named by dsn and returns the store in its table,
// creating the table if needed.
func Open(ctx context.Context, dsn string, opts ...Option) (store.Store, error) {
	d, err := NewDriver(ctx, dsn, opts...)
	if err != nil {
		return nil, err
	}
	if d.(*driver).readOnly {
		return pdk.NewStore(d, pdk.WithReadOnly()), nil
	}
	return pdk.NewStore(d), nil
}

// NewDriver is Open returning the pdk.Driver, for hosts that serve drivers (the plugin guest)
// rather than use them through a Store. The caller owns the driver and must Close it;
// pdk.NewStore takes that ownership over.
func NewDriver(ctx context.Context, dsn string, opts ...Option) (pdk.Driver, error) {
	connCfg, dsnTable, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	cfg := DefaultOptions()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.tableSet = cfg.tableSet || cfg.Table != ""
	table := DefaultTable
	switch {
	case dsnTable != "" && cfg.tableSet && dsnTable != cfg.Table:
		return nil, fmt.Errorf("postgres: the DSN's %s=%q and WithTable(%q) name different tables", TableParam, dsnTable, cfg.Table)
	case cfg.tableSet:
		table = cfg.Table
	case dsnTable != "":
		table = dsnTable
	}
	if err := checkTable(table); err != nil {
		return nil, err
	}
	if cfg.ReadOnly {
		connCfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	}
	cfg.net.apply(connCfg.ConnConfig)
	d, err := newDriver(ctx, connCfg, table, cfg.ReadConns, cfg.ReadOnly)
	if err != nil {
		return nil, err
	}
	if err := d.open(ctx); err != nil {
		d.closePools()
		return nil, err
	}
	return d, nil
}

// parseDSN parses dsn as pgxpool does and takes the TableParam parameter out of it (pgx would
// send it to the server as a run-time setting, which the server would refuse). pgxpool's own
// pool_* parameters are refused: the driver sets its pools up itself (WithReadConns, one
// writer), and before pgxpool they were sent to the server, which refused them too.
func parseDSN(dsn string) (*pgxpool.Config, string, error) {
	// Parsed twice, as pgx and as pgxpool: the run-time settings pgxpool takes out are its
	// parameters, whatever pgxpool version.
	plain, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's error shows the DSN with any password masked.
		return nil, "", fmt.Errorf("postgres: invalid DSN: %w", err)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: invalid DSN: %w", err)
	}
	for name := range plain.RuntimeParams {
		if _, ok := cfg.ConnConfig.RuntimeParams[name]; !ok {
			return nil, "", fmt.Errorf("postgres: the DSN's %s parameter: the driver sizes and tunes its connection pools itself (see WithReadConns)", name)
		}
	}
	params := cfg.ConnConfig.RuntimeParams
	table, ok := params[TableParam]
	delete(params, TableParam)
	if ok && table == "" {
		return nil, "", fmt.Errorf("postgres: the DSN's %s parameter is empty", TableParam)
	}
	if _, set := params["application_name"]; !set {
		params["application_name"] = "dockyard"
	}
	return cfg, table, nil
}

// checkTable reports why name cannot be a store's table name.
func checkTable(name string) error {
	if name == "" || len(name) > maxTableLen {
		return fmt.Errorf("postgres: table name %q: want 1 to %d bytes", name, maxTableLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || c == '_' || i > 0 && '0' <= c && c <= '9') {
			return fmt.Errorf("postgres: table name %q: want lower-case ASCII letters, digits and '_', not starting with a digit", name)
		}
	}
	return nil
}

// driver is the pdk.Driver: a pool of connections for readers and one of a single connection
// for the writer.
type driver struct {
	table         string
	q             queries
	connCfg       *pgx.ConnConfig // for Ping's connection of its own
	readers       *pgxpool.Pool
	writer        *pgxpool.Pool
	serverVersion string
	readOnly      bool // Options.ReadOnly
}

func newDriver(ctx context.Context, cfg *pgxpool.Config, table string, readConns int, readOnly bool) (*driver, error) {
	d := &driver{table: table, q: newQueries(table), connCfg: cfg.ConnConfig.Copy(), readOnly: readOnly}
	var err error
	if d.readers, err = pgxpool.NewWithConfig(ctx, poolConfig(cfg, readConns)); err != nil {
		return nil, d.errorf("connection pool", err)
	}
	if d.writer, err = pgxpool.NewWithConfig(ctx, poolConfig(cfg, 1)); err != nil {
		d.readers.Close()
		return nil, d.errorf("connection pool", err)
	}
	return d, nil
}

// poolConfig is cfg for a pool of at most size connections, made on demand, each pinged
// before use when it has been idle for more than pingAfter. pgxpool itself discards a
// connection given back broken or inside a transaction, so the next use dials a new one, and
// closes idle ones after its MaxConnIdleTime and all after its MaxConnLifetime (its defaults,
// 30 minutes and an hour, checked every HealthCheckPeriod, a minute, and at each acquire).
func poolConfig(cfg *pgxpool.Config, size int) *pgxpool.Config {
	c := cfg.Copy()
	c.MaxConns = int32(min(size, math.MaxInt32))
	c.MinConns, c.MinIdleConns = 0, 0
	c.ShouldPing = func(_ context.Context, p pgxpool.ShouldPingParams) bool {
		return p.IdleDuration > pingAfter
	}
	return c
}

// open connects, records the server's version and brings the schema up to date.
func (d *driver) open(ctx context.Context) error {
	c, err := d.writer.Acquire(ctx)
	if err != nil {
		return d.errorf("connect", err)
	}
	defer c.Release()
	d.serverVersion = c.Conn().PgConn().ParameterStatus("server_version")
	return d.ensureSchema(ctx, c.Conn())
}

// errorf wraps err as the failure of what, naming the table.
func (d *driver) errorf(what string, err error) error {
	return fmt.Errorf("postgres: %s (table %q): %w", what, d.table, err)
}

func (d *driver) Info() pdk.Info {
	v := Version
	if d.serverVersion != "" {
		v += " (PostgreSQL " + d.serverVersion + ")"
	}
	return pdk.Info{
		Name:    Name,
		Version: v,
		Caps:    pdk.Capabilities{Durable: true, ConcurrentReaders: true},
	}
}

func (d *driver) Begin(ctx context.Context, writable bool) (pdk.Txn, error) {
	if writable && d.readOnly { // the adapter refuses first; a guest's dispatcher calls Begin itself
		return nil, fmt.Errorf("postgres: table %s: %w: the store was opened read-only", d.table, store.ErrReadOnly)
	}
	p := d.readers
	if writable {
		p = d.writer
	}
	pc, err := p.Acquire(ctx)
	if err != nil {
		return nil, d.errorf("connect", err)
	}
	return &txn{d: d, pc: pc, c: pc.Conn(), writable: writable}, nil
}

// Ping checks the server answers on a reader connection. It does not queue behind
// transactions: when every reader connection is in use it dials a connection of its own and
// closes it after. (pgxpool has no TryAcquire, so this looks at the pool's statistics first: a
// View that takes the last free connection in between makes Ping wait for that View.)
func (d *driver) Ping(ctx context.Context) error {
	if s := d.readers.Stat(); s.IdleConns() == 0 && s.TotalConns() >= s.MaxConns() {
		c, err := pgx.ConnectConfig(ctx, d.connCfg)
		if err != nil {
			return d.errorf("ping", err)
		}
		defer func() {
			cctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
			defer cancel()
			_ = c.Close(cctx)
		}()
		if err := c.Ping(ctx); err != nil {
			return d.errorf("ping", err)
		}
		return nil
	}
	pc, err := d.readers.Acquire(ctx)
	if err != nil {
		return d.errorf("ping", err)
	}
	defer pc.Release()
	if err := pc.Ping(ctx); err != nil {
		return d.errorf("ping", err)
	}
	return nil
}

func (d *driver) Close() error {
	d.closePools()
	return nil
}

// closePools closes the pools, waiting for connections in use to be given back.
func (d *driver) closePools() {
	d.readers.Close()
	d.writer.Close()
}

// logDiscard logs, at debug level, that the pool will close c instead of keeping it.
func logDiscard(c *pgx.Conn) {
	why := "given back inside a transaction"
	if c.IsClosed() {
		why = "broken"
	}
	slog.Debug("postgres: discarding a connection", "why", why)
}

// errCode reports whether err is a PostgreSQL error with one of the given SQLSTATE codes.
func errCode(err error, codes ...string) bool {
	var pe interface{ SQLState() string }
	if !errors.As(err, &pe) {
		return false
	}
	for _, c := range codes {
		if pe.SQLState() == c {
			return true
		}
	}
	return false
}
