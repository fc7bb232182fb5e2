package postgres

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/jackc/pgx/v5"

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

// maxTableLen is the longest table name: PostgreSQL's identifiers hold 63 bytes, and the
// meta table's name adds metaSuffix.
const maxTableLen = 63 - len(metaSuffix)

func init() {
	store.Register(Name, func(ctx context.Context, dsn string) (store.Store, error) {
		return Open(ctx, dsn)
	})
}

// Option configures Open and NewDriver.
type Option func(*config)

type config struct {
	table     string
	tableSet  bool // WithTable was given, maybe with an empty (and so invalid) name
	readConns int
}

// WithTable names the store's table; the store also uses the table <name>_meta. A name is 1 to
// 58 bytes of lower-case ASCII letters, digits and '_', not starting with a digit, so that it
// means the same quoted or not. The default is DefaultTable, or the DSN's dockyard_table
// parameter; naming two different tables in the DSN and in WithTable is an error.
func WithTable(name string) Option {
	return func(c *config) { c.table, c.tableSet = name, true }
}

// WithReadConns sets how many connections the store keeps for View transactions: how many can
// run at once before further ones wait for a connection. The default is twice the number of
// CPUs, at least 4 and at most 32. Update transactions use one more connection of their own.
// Values below 1 are ignored.
func WithReadConns(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.readConns = n
		}
	}
}

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
	cfg := config{readConns: defaultReadConns()}
	for _, o := range opts {
		o(&cfg)
	}
	table := DefaultTable
	switch {
	case dsnTable != "" && cfg.tableSet && dsnTable != cfg.table:
		return nil, fmt.Errorf("postgres: the DSN's %s=%q and WithTable(%q) name different tables", TableParam, dsnTable, cfg.table)
	case cfg.tableSet:
		table = cfg.table
	case dsnTable != "":
		table = dsnTable
	}
	if err := checkTable(table); err != nil {
		return nil, err
	}
	d := newDriver(connCfg, table, cfg.readConns)
	if err := d.open(ctx); err != nil {
		d.closePools()
		return nil, err
	}
	return d, nil
}

// parseDSN parses dsn as pgx does and takes the TableParam parameter out of it (pgx would send
// it to the server as a run-time setting, which the server would refuse).
func parseDSN(dsn string) (*pgx.ConnConfig, string, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's error shows the DSN with any password masked.
		return nil, "", fmt.Errorf("postgres: invalid DSN: %w", err)
	}
	table, ok := cfg.RuntimeParams[TableParam]
	delete(cfg.RuntimeParams, TableParam)
	if ok && table == "" {
		return nil, "", fmt.Errorf("postgres: the DSN's %s parameter is empty", TableParam)
	}
	if _, set := cfg.RuntimeParams["application_name"]; !set {
		cfg.RuntimeParams["application_name"] = "dockyard"
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

// driver is the pdk.Driver: a pool of connections for readers and one for the writer.
type driver struct {
	table         string
	q             queries
	readers       *pool
	writer        *pool
	serverVersion string
}

func newDriver(cfg *pgx.ConnConfig, table string, readConns int) *driver {
	return &driver{
		table:   table,
		q:       newQueries(table),
		readers: newPool(cfg, readConns),
		writer:  newPool(cfg, 1),
	}
}

// open connects, records the server's version and brings the schema up to date.
func (d *driver) open(ctx context.Context) error {
	c, err := d.writer.get(ctx)
	if err != nil {
		return d.errorf("connect", err)
	}
	defer d.writer.put(c)
	d.serverVersion = c.PgConn().ParameterStatus("server_version")
	if err := d.ensureSchema(ctx, c); err != nil {
		return err
	}
	return nil
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
	p := d.readers
	if writable {
		p = d.writer
	}
	c, err := p.get(ctx)
	if err != nil {
		return nil, d.errorf("connect", err)
	}
	return &txn{d: d, p: p, c: c, writable: writable}, nil
}

// Ping checks the server answers on a reader connection. It never waits for a transaction:
// when every reader connection is busy it uses a new connection of its own.
func (d *driver) Ping(ctx context.Context) error {
	c, pooled, err := d.readers.tryGet(ctx)
	if err != nil {
		return d.errorf("ping", err)
	}
	if pooled {
		defer d.readers.put(c)
	} else {
		defer func() { _ = c.Close(context.Background()) }()
	}
	if err := c.Ping(ctx); err != nil {
		return d.errorf("ping", err)
	}
	return nil
}

func (d *driver) Close() error {
	d.closePools()
	return nil
}

func (d *driver) closePools() {
	d.readers.close()
	d.writer.close()
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
