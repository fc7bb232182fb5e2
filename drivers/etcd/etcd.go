package etcd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// Name is the name the driver registers under.
const Name = "etcd"

// Version is the driver's own version, reported in pdk.Info together with the server's.
const Version = "1"

// DefaultPrefix is the key prefix of a store whose DSN names none.
const DefaultPrefix = "dockyard"

// The defaults of Options.
const (
	DefaultLockTTL         = 10 * time.Second
	DefaultDialTimeout     = 5 * time.Second
	DefaultMaxRequestBytes = 8 << 20
	DefaultRequestTimeout  = 10 * time.Second
)

// requestSlack is what a request needs beyond its keys and values: a value of
// store.MaxValueSize must fit in one request with its key, the fences and the framing.
const requestSlack = 64 << 10

// keepAlive is the interval of the client's gRPC keepalive pings, and how long it waits for an
// answer: a member that vanished without closing its connections (a killed machine) is noticed
// within about twice this, and the client moves to another endpoint.
const keepAlive = 5 * time.Second

// cleanupTimeout bounds the best-effort requests that tidy up after a transaction (deleting a
// lock key, revoking a lease) when the transaction's own context may have ended.
const cleanupTimeout = 5 * time.Second

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
// DefaultOptions; the JSON names are in the tags). A DSN parameter of the same name overrides
// them. Open refuses an invalid value with an error naming the option.
type Options struct {
	// LockTTL is the time-to-live of the lease behind the writers' lock: how long the lock
	// outlives a writer that vanished (killed, partitioned) before the next writer may take
	// it. Whole seconds, at least 1s (etcd leases count seconds). A live writer keeps its
	// lease alive however long its Update runs. JSON "lock_ttl", DSN lock_ttl.
	LockTTL pdk.Duration `json:"lock_ttl"`
	// DialTimeout bounds connecting to the cluster at Open. JSON "dial_timeout", DSN
	// dial_timeout.
	DialTimeout pdk.Duration `json:"dial_timeout"`
	// MaxRequestBytes is the largest request the client sends: one commit carries all of an
	// Update's writes, so this bounds an Update's size. It must not exceed the cluster's
	// --max-request-bytes (etcd's default is 1.5 MiB; a store needs at least
	// store.MaxValueSize plus 64 KiB, so DefaultMaxRequestBytes asks the cluster for 8 MiB).
	// JSON "max_request_bytes", DSN max_request_bytes.
	MaxRequestBytes int `json:"max_request_bytes"`
	// RequestTimeout bounds each request to the cluster, beside the caller's context: a
	// request stranded on a member that vanished without closing its connection, or held by
	// a cluster that lost its majority, fails after it instead of waiting for the caller's
	// deadline, which may be none (a commit that times out is store.ErrCommitUnknown). It does
	// not bound waiting for the write lock, which only the caller's context does. JSON
	// "request_timeout", DSN request_timeout.
	RequestTimeout pdk.Duration `json:"request_timeout"`
	// TLSCA, TLSCert and TLSKey turn TLS on: the PEM file of the certificate authorities to
	// trust (empty: the system's), and the PEM files of a client certificate and its key, for a
	// cluster that requires one (--client-cert-auth): both or neither. TLS is on when TLSCA or
	// TLSCert is set; the cluster's certificates must name the endpoints' hosts. JSON "tls_ca",
	// "tls_cert", "tls_key"; DSN tls_ca, tls_cert, tls_key.
	TLSCA   string `json:"tls_ca"`
	TLSCert string `json:"tls_cert"`
	TLSKey  string `json:"tls_key"`
	// ReadOnly opens an existing store and writes nothing: a prefix without a schema is
	// store.ErrNoStore, no schema is recorded, no lock taken, and Update fails with
	// store.ErrReadOnly. store.OpenReadOnly sets it; it is not a manifest option.
	ReadOnly bool `json:"-"`
}

// DefaultOptions returns the options a store has when none is given.
func DefaultOptions() Options {
	return Options{
		LockTTL:         pdk.Duration(DefaultLockTTL),
		DialTimeout:     pdk.Duration(DefaultDialTimeout),
		MaxRequestBytes: DefaultMaxRequestBytes,
		RequestTimeout:  pdk.Duration(DefaultRequestTimeout),
	}
}

// Validate refuses an invalid value, naming the option.
func (o Options) Validate() error {
	ttl := time.Duration(o.LockTTL)
	switch {
	case ttl < time.Second || ttl%time.Second != 0:
		return fmt.Errorf("etcd: option lock_ttl %v: want whole seconds, at least 1s", ttl)
	case o.DialTimeout <= 0:
		return fmt.Errorf("etcd: option dial_timeout %v: must be positive", time.Duration(o.DialTimeout))
	case (o.TLSCert == "") != (o.TLSKey == ""):
		return fmt.Errorf("etcd: options tls_cert %q and tls_key %q: give both or neither", o.TLSCert, o.TLSKey)
	case o.RequestTimeout <= 0:
		return fmt.Errorf("etcd: option request_timeout %v: must be positive", time.Duration(o.RequestTimeout))
	case o.MaxRequestBytes < store.MaxValueSize+requestSlack:
		return fmt.Errorf("etcd: option max_request_bytes %d: want at least %d (store.MaxValueSize and 64 KiB)", o.MaxRequestBytes, store.MaxValueSize+requestSlack)
	}
	return nil
}

// Option configures Open and NewDriver.
type Option func(*Options)

// WithOptions sets every option at once, to o.
func WithOptions(o Options) Option { return func(c *Options) { *c = o } }

// WithLockTTL sets Options.LockTTL.
func WithLockTTL(d time.Duration) Option { return func(c *Options) { c.LockTTL = pdk.Duration(d) } }

// WithDialTimeout sets Options.DialTimeout.
func WithDialTimeout(d time.Duration) Option {
	return func(c *Options) { c.DialTimeout = pdk.Duration(d) }
}

// WithRequestTimeout sets Options.RequestTimeout.
func WithRequestTimeout(d time.Duration) Option {
	return func(c *Options) { c.RequestTimeout = pdk.Duration(d) }
}

// WithMaxRequestBytes sets Options.MaxRequestBytes.
func WithMaxRequestBytes(n int) Option { return func(c *Options) { c.MaxRequestBytes = n } }

// WithReadOnly sets Options.ReadOnly.
func WithReadOnly() Option { return func(c *Options) { c.ReadOnly = true } }

// Open connects to the etcd cluster named by dsn and returns the store under the DSN's key
// prefix, recording its schema there if it is new.
func Open(ctx context.Context, dsn string, opts ...Option) (store.Store, error) {
	d, err := NewDriver(ctx, dsn, opts...)
	if err != nil {
		return nil, err
	}
	if d.(*driver).opts.ReadOnly {
		return pdk.NewStore(d, pdk.WithReadOnly()), nil
	}
	return pdk.NewStore(d), nil
}

// NewDriver is Open returning the pdk.Driver, for hosts that serve drivers (the plugin guest)
// rather than use them through a Store. The caller owns the driver and must Close it;
// pdk.NewStore takes that ownership over.
func NewDriver(ctx context.Context, dsn string, opts ...Option) (pdk.Driver, error) {
	cli, cfg, o, err := connect(dsn, opts)
	if err != nil {
		return nil, err
	}
	d := &driver{
		cli:     cli,
		prefix:  cfg.Prefix,
		l:       newLayout(cfg.Prefix),
		opts:    o,
		lockTTL: int64(time.Duration(o.LockTTL) / time.Second),
	}
	if err := d.open(ctx); err != nil {
		_ = cli.Close()
		return nil, err
	}
	return d, nil
}

// tlsConfig returns the client's TLS configuration, nil when TLS is off.
func (o Options) tlsConfig() (*tls.Config, error) {
	if o.TLSCA == "" && o.TLSCert == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.TLSCA != "" {
		pem, err := os.ReadFile(o.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("etcd: option tls_ca: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("etcd: option tls_ca %q: no PEM certificate in it", o.TLSCA)
		}
	}
	if o.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("etcd: options tls_cert %q and tls_key %q: %w", o.TLSCert, o.TLSKey, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// boundRequests is a gRPC interceptor giving every unary request (every request but watches
// and lease keepalives, which are streams) a deadline of at most timeout.
func boundRequests(timeout time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoke grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return invoke(ctx, method, req, reply, cc, opts...)
	}
}

// connect parses dsn onto opts and makes the client of the store it names: the one place the
// DSN's endpoints, user, TLS files and limits become a client, for NewDriver and Drop alike.
func connect(dsn string, opts []Option) (*clientv3.Client, DSN, Options, error) {
	o := DefaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, cfg, o, err
	}
	if err := cfg.apply(&o); err != nil {
		return nil, cfg, o, err
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if err := o.Validate(); err != nil {
		return nil, cfg, o, err
	}
	tlsCfg, err := o.tlsConfig()
	if err != nil {
		return nil, cfg, o, err
	}
	cli, err := clientv3.New(clientv3.Config{
		TLS:                  tlsCfg,
		Endpoints:            cfg.Endpoints,
		Username:             cfg.Username,
		Password:             cfg.Password,
		DialTimeout:          time.Duration(o.DialTimeout),
		DialKeepAliveTime:    keepAlive,
		DialKeepAliveTimeout: keepAlive,
		MaxCallSendMsgSize:   o.MaxRequestBytes,
		MaxCallRecvMsgSize:   maxRecvBytes,
		Logger:               zap.NewNop(),
		DialOptions:          []grpc.DialOption{grpc.WithChainUnaryInterceptor(boundRequests(time.Duration(o.RequestTimeout)))},
	})
	if errors.Is(err, context.DeadlineExceeded) {
		// With a user, the client logs in while it connects, and waits for an answer.
		return nil, cfg, o, noAnswer(cfg.Endpoints, o, err)
	}
	if err != nil {
		return nil, cfg, o, fmt.Errorf("etcd: connect to %s: %w", strings.Join(cfg.Endpoints, ","), err)
	}
	return cli, cfg, o, nil
}

// Drop deletes the store dsn names, and every store nested under its prefix: every key under
// P/. It is for tools that make throwaway stores (dockyard conform --dsn) and tests; it takes
// no lock, so no store under the prefix may be open.
func Drop(ctx context.Context, dsn string, opts ...Option) error {
	cli, cfg, _, err := connect(dsn, opts)
	if err != nil {
		return err
	}
	defer cli.Close()
	if _, err := cli.Delete(leader(ctx), cfg.Prefix+"/", clientv3.WithPrefix()); err != nil {
		return fmt.Errorf("etcd: drop the store at prefix %q: %w", cfg.Prefix, err)
	}
	return nil
}

// driver is the pdk.Driver: one etcd client, shared by every transaction of the store.
type driver struct {
	cli     *clientv3.Client
	prefix  string
	l       layout
	opts    Options
	lockTTL int64 // seconds

	serverVersion string

	mu    sync.Mutex
	lease *lease   // the writers' lease, granted on first need (lock.go)
	seq   uint64   // numbers the lock keys of this driver
	stale []string // lock keys of this driver that could not be deleted (abandon)
}

// open checks the cluster answers, records its version and brings the schema up to date,
// within the dial timeout: the client connects lazily, so a cluster that is down shows here.
func (d *driver) open(parent context.Context) error {
	ctx, cancel := context.WithTimeout(parent, time.Duration(d.opts.DialTimeout))
	defer cancel()
	for _, ep := range d.cli.Endpoints() {
		st, err := d.cli.Status(leader(ctx), ep)
		if err == nil {
			d.serverVersion = st.Version
			break
		}
	}
	err := d.ensureSchema(ctx)
	if err != nil && ctx.Err() != nil && parent.Err() == nil {
		return noAnswer(d.cli.Endpoints(), d.opts, err)
	}
	return err
}

// noAnswer is the error of an open that timed out: gRPC says only that the deadline passed, so
// it says what to look at.
func noAnswer(endpoints []string, o Options, err error) error {
	tls := "plain TCP"
	if o.TLSCA != "" || o.TLSCert != "" {
		tls = "TLS"
	}
	return fmt.Errorf("etcd: no answer from %s within dial_timeout %v over %s: is the cluster up and a majority of it running, and does it speak %s (a cluster that wants TLS needs tls_ca, one that wants client certificates tls_cert and tls_key)? %w",
		strings.Join(endpoints, ","), time.Duration(o.DialTimeout), tls, tls, err)
}

// leader makes every request fail fast when the member it reaches has no leader (a member cut
// off from the majority), instead of waiting on it: the client then tries another endpoint.
func leader(ctx context.Context) context.Context { return clientv3.WithRequireLeader(ctx) }

// errorf wraps err as the failure of what, naming the key prefix.
func (d *driver) errorf(what string, err error) error {
	return fmt.Errorf("etcd: %s (prefix %q): %w", what, d.prefix, err)
}

func (d *driver) Info() pdk.Info {
	v := Version
	if d.serverVersion != "" {
		v += " (etcd " + d.serverVersion + ")"
	}
	return pdk.Info{
		Name:    Name,
		Version: v,
		Caps:    pdk.Capabilities{Durable: true, ConcurrentReaders: true},
	}
}

func (d *driver) Begin(ctx context.Context, writable bool) (pdk.Txn, error) {
	if writable && d.opts.ReadOnly { // the adapter refuses first; a guest's dispatcher calls Begin itself
		return nil, fmt.Errorf("etcd: prefix %q: %w: the store was opened read-only", d.prefix, store.ErrReadOnly)
	}
	if writable {
		return &writeTxn{d: d}, nil
	}
	return &readTxn{d: d}, nil
}

// Ping makes a linearizable read of the schema key, which needs a leader and a majority.
func (d *driver) Ping(ctx context.Context) error {
	if _, err := d.cli.Get(leader(ctx), d.l.schema); err != nil {
		return d.errorf("ping", err)
	}
	return nil
}

func (d *driver) Close() error {
	d.mu.Lock()
	l := d.lease
	d.lease = nil
	d.mu.Unlock()
	if l != nil {
		l.revoke(d.cli)
	}
	if err := d.cli.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return d.errorf("close", err)
	}
	return nil
}
