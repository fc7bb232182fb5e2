//go:build unix

package pluginhost

import (
	"log/slog"
	"time"
)

// Defaults of the options.
const (
	// DefaultStartTimeout bounds starting a plugin process: exec, go-plugin's handshake, TLS,
	// the gRPC connection and the ABI's HELLO.
	DefaultStartTimeout = 10 * time.Second
	// DefaultCallTimeout bounds each crossing: a plugin that has not answered by then is
	// killed and the call fails.
	DefaultCallTimeout = 30 * time.Second
)

// Option configures Open and NewDriver.
type Option func(*config)

type config struct {
	name         string
	checksum     []byte
	logger       *slog.Logger
	startTimeout time.Duration
	callTimeout  time.Duration
	driverOpts   []byte
	env          []string
	noMTLS       bool
	acceptLoss   bool

	interpreter string

	readPaths, writePaths []string
	connect               []string
	requireContainment    bool
	limits                Limits
}

// WithName names the driver in errors and log records (default: the binary's base name).
func WithName(name string) Option { return func(c *config) { c.name = name } }

// WithChecksum pins the binary: its SHA-256 must equal sum, checked every time a process is
// started, restarts included, on the very bytes that are executed. Without it, Open computes
// the binary's SHA-256 once and pins that, so a binary replaced while the store is open is
// refused at the next restart all the same.
func WithChecksum(sum []byte) Option {
	return func(c *config) { c.checksum = append([]byte(nil), sum...) }
}

// WithLogger sets the logger the plugin's log records and go-plugin's own are written to, at
// their levels, with the attribute plugin=<name> (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithStartTimeout bounds starting a plugin process (default DefaultStartTimeout).
func WithStartTimeout(d time.Duration) Option { return func(c *config) { c.startTimeout = d } }

// WithCallTimeout bounds each crossing (default DefaultCallTimeout). A plugin that has not
// answered by then is killed, the call fails, and the next use starts a new process.
func WithCallTimeout(d time.Duration) Option { return func(c *config) { c.callTimeout = d } }

// WithDriverOptions sets the free-form options sent to the plugin's driver in the HELLO
// handshake (abi.Hello.Options; JSON by convention, e.g. a manifest's options).
func WithDriverOptions(opts []byte) Option {
	return func(c *config) { c.driverOpts = append([]byte(nil), opts...) }
}

// WithEnv adds variables ("KEY=value") to the plugin process's environment. A plugin gets
// nothing of the host's environment but TMPDIR (the host's holds its secrets): pass what the
// plugin needs here.
func WithEnv(env ...string) Option { return func(c *config) { c.env = append(c.env, env...) } }

// WithInterpreter runs the artifact with the program at path (absolute: "/usr/bin/node"),
// for a plugin that is a script or bundle rather than a program. The artifact is still pinned
// (WithChecksum) and sealed: the interpreter gets its sealed copy as descriptor 3 and the path
// /proc/self/fd/3 as its one argument (elsewhere than Linux, the artifact's path). On Linux the
// sandbox lets the plugin execute the interpreter and its ELF interpreter (the dynamic
// loader) and nothing else; what the interpreter reads, its shared libraries among them, must
// be in WithReadPaths. The interpreter itself is not pinned.
func WithInterpreter(path string) Option { return func(c *config) { c.interpreter = path } }

// WithReadPaths lets the plugin read the files beneath each path (on Linux, where Landlock
// confines it to its data path otherwise; see docs/manifest.md).
func WithReadPaths(paths ...string) Option {
	return func(c *config) { c.readPaths = append(c.readPaths, paths...) }
}

// WithWritePaths lets the plugin read, create, write and remove the files beneath each path,
// besides its data path (the DSN's directory, see Open).
func WithWritePaths(paths ...string) Option {
	return func(c *config) { c.writePaths = append(c.writePaths, paths...) }
}

// WithConnect lets the plugin open TCP connections to each "host:port" endpoint. Linux's
// Landlock enforces it by port only: a plugin allowed "db.internal:5432" can connect to port
// 5432 of any address.
func WithConnect(endpoints ...string) Option {
	return func(c *config) { c.connect = append(c.connect, endpoints...) }
}

// WithRequireContainment refuses to start the plugin, with an error wrapping ErrUncontained,
// on a host that cannot confine it entirely (a kernel without Landlock ABI 6, or not Linux),
// instead of starting it with a warning that says what is not contained.
func WithRequireContainment() Option { return func(c *config) { c.requireContainment = true } }

// WithAcceptLoss says the application accepts losing the data of a driver that is not
// durable (a cache): after its process is lost, the store goes on empty in a new one instead of
// failing every call with store.ErrStoreLost (abi.WithAcceptLoss).
func WithAcceptLoss() Option { return func(c *config) { c.acceptLoss = true } }

// WithoutAutoMTLS turns off go-plugin's AutoMTLS, on by default, under which every plugin
// process gets a fresh certificate pair and the connection is mutually authenticated and
// encrypted. Without it the connection is plain gRPC over the Unix socket go-plugin creates
// (in a private temporary directory): any process of the same user that finds the socket can
// talk to the plugin. It saves a few microseconds per round trip (BenchmarkRoundTrip).
func WithoutAutoMTLS() Option { return func(c *config) { c.noMTLS = true } }

func resolve(defaultName string, opts []Option) config {
	c := config{name: defaultName, startTimeout: DefaultStartTimeout, callTimeout: DefaultCallTimeout}
	for _, o := range opts {
		o(&c)
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	if c.startTimeout <= 0 {
		c.startTimeout = DefaultStartTimeout
	}
	if c.callTimeout <= 0 {
		c.callTimeout = DefaultCallTimeout
	}
	return c
}
