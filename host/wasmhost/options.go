package wasmhost

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/dockyard/dockyard/host/artifact"
	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/store"
)

// Defaults of the options.
const (
	// DefaultMemoryLimit is the largest linear memory an instance may grow to (WithMemoryLimit).
	DefaultMemoryLimit = 256 << 20
	// DefaultCallTimeout is the per-call deadline (WithCallTimeout).
	DefaultCallTimeout = 30 * time.Second
	// DefaultMaxResponse is the largest response frame accepted from a guest (WithMaxResponse):
	// abi.MaxResponse, 8 MiB.
	DefaultMaxResponse = abi.MaxResponse
	// MinMaxResponse is the smallest WithMaxResponse accepted. A response carries at most one
	// payload (a value of at most store.MaxValueSize, or a scan page, which the dispatcher
	// bounds at abi.ScanPageBudget plus one entry) besides one short result for each other
	// operation of its request: 2 MiB covers those for the client's largest requests.
	MinMaxResponse = store.MaxValueSize + 2<<20
)

// wasmPageSize is the size of a WebAssembly memory page.
const wasmPageSize = 64 << 10

// Option configures Compile, CompileFile, Open and NewDriver.
type Option func(*config)

type config struct {
	name        string
	cacheDir    string
	cacheSet    bool
	memoryLimit uint64
	callTimeout time.Duration
	trusted     bool
	logger      *slog.Logger
	maxResponse int
	driverOpts  []byte
	acceptLoss  bool
	diskQuota   int64
	maxOpen     int
	connect     []string // endpoints the guest may connect to (net.go)
	maxConns    int
	serverDSN   bool // a DSN names a server: handed to the guest as it is, nothing mounted
}

func defaultConfig() config {
	return config{
		diskQuota:   DefaultDiskQuota,
		maxOpen:     DefaultMaxOpenFiles,
		maxConns:    DefaultMaxConnections,
		memoryLimit: DefaultMemoryLimit,
		callTimeout: DefaultCallTimeout,
		maxResponse: DefaultMaxResponse,
	}
}

// WithName names the module in logs and errors. The default is the module file's base name
// without ".wasm" (CompileFile, Open, NewDriver) or "wasm" (Compile).
func WithName(name string) Option { return func(c *config) { c.name = name } }

// WithCacheDir sets the directory of wazero's on-disk compilation cache, so that a module
// compiled once to native code is not compiled again by the next process. The default is
// os.UserCacheDir()/dockyard/wazero, or no disk cache when the user has no cache directory.
// An empty dir disables the disk cache. The cache holds native code that the host runs: keep
// the directory writable only by the user running the host (wazero creates it with mode 0700).
func WithCacheDir(dir string) Option {
	return func(c *config) { c.cacheDir, c.cacheSet = dir, true }
}

// WithMemoryLimit caps each instance's linear memory at bytes, rounded up to whole 64 KiB
// pages (default DefaultMemoryLimit, 256 MiB; at most 4 GiB). A guest that needs more fails
// the call that needed it (a Go guest exits with "out of memory"); the instance is discarded.
func WithMemoryLimit(bytes uint64) Option { return func(c *config) { c.memoryLimit = bytes } }

// WithDiskQuota sets how many bytes of files the guest may hold in its data directory
// (default DefaultDiskQuota, 8 GiB), counted at the files' sizes, what the directory held
// before included. A write or truncate past it fails in the guest with EIO (WASI as wazero
// implements it has no ENOSPC), and the first one is logged.
func WithDiskQuota(bytes int64) Option { return func(c *config) { c.diskQuota = bytes } }

// WithMaxOpenFiles sets how many files and directories one instance may have open at once in
// its data directory (default DefaultMaxOpenFiles, 256, at most 65536). An open past it fails in
// the guest with EIO, and the first one is logged.
func WithMaxOpenFiles(n int) Option { return func(c *config) { c.maxOpen = n } }

// WithConnect lets the guest open TCP connections to endpoints, each "host:port" (the syntax
// of a manifest's sandbox.connect, checked by artifact.EndpointPort), through the optional
// network of the wasm binding (docs/abi.md, "Network (optional)"; package pdk/wasmnet on the
// guest's side). The guest names an endpoint exactly as it is listed here, and the host
// resolves the name and dials it, at each connect: a guest cannot reach an address by another
// name, nor any other port. A connect to anything else fails in the guest and is logged at
// Warn. The default is none; WithConnect replaces the list of an earlier WithConnect.
func WithConnect(endpoints ...string) Option {
	return func(c *config) { c.connect = append([]string(nil), endpoints...) }
}

// WithMaxConnections sets how many TCP connections one instance may have open at once
// (default DefaultMaxConnections, 16; at most 4096), a limit of their own beside
// WithMaxOpenFiles. A connect past it fails in the guest, and the first one is logged. The
// connections of an instance are closed when it is discarded or its store closed.
func WithMaxConnections(n int) Option { return func(c *config) { c.maxConns = n } }

// WithServerDSN says the driver's DSN names a server (pdk.DSNServer, a manifest's dsn_form
// "server"), a PostgreSQL connection string say, rather than a host directory: the DSN is
// handed to the guest unchanged in the HELLO handshake, and the guest gets no filesystem
// (nothing is created, mounted or locked). The guest reaches its server through WithConnect.
// Without it, a non-empty DSN is a data directory (Module.Open).
func WithServerDSN() Option { return func(c *config) { c.serverDSN = true } }

// WithCallTimeout sets the deadline of each call into the guest (default DefaultCallTimeout,
// 30 s). A call still running at its deadline is stopped and its instance discarded; see the
// package documentation. It has no effect with WithTrusted.
func WithCallTimeout(d time.Duration) Option { return func(c *config) { c.callTimeout = d } }

// WithTrusted runs the module in trusted mode: no per-call deadline, so a guest that loops
// forever hangs its caller forever. It saves the cost of the deadline machinery (see the
// package documentation for numbers). Use it only for modules you trust as you trust your own
// code; memory limits, the filesystem sandbox and response checks still apply.
func WithTrusted() Option { return func(c *config) { c.trusted = true } }

// WithLogger sets where the guest's output goes: each line it writes to stdout is logged at
// Info, each line to stderr at Warn, with the attributes module (the module's name) and stream.
// The host's own warnings about the instance (a discarded instance, a sandbox escape attempt)
// go there too. The default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithMaxResponse sets the largest response frame accepted from the guest (default
// DefaultMaxResponse, 8 MiB; at least MinMaxResponse). A larger one is an error and the
// instance is discarded.
func WithMaxResponse(n int) Option { return func(c *config) { c.maxResponse = n } }

// WithDriverOptions sets the free-form options sent to the guest's driver in the HELLO
// handshake (abi.Hello.Options; JSON by convention, e.g. a manifest's options). Default none.
func WithDriverOptions(opts []byte) Option {
	return func(c *config) { c.driverOpts = append([]byte(nil), opts...) }
}

// WithAcceptLoss says the application accepts losing the data of a driver that is not
// durable (a cache): after its instance is lost, the store goes on empty in a fresh one instead
// of failing every call with store.ErrStoreLost (abi.WithAcceptLoss).
func WithAcceptLoss() Option { return func(c *config) { c.acceptLoss = true } }

// resolve applies opts to the defaults and checks the result.
func resolve(defaultName string, opts []Option) (config, error) {
	c := defaultConfig()
	for _, o := range opts {
		o(&c)
	}
	if c.name == "" {
		c.name = defaultName
	}
	if !c.cacheSet {
		if dir, err := os.UserCacheDir(); err == nil {
			c.cacheDir = filepath.Join(dir, "dockyard", "wazero")
		}
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	switch {
	case c.memoryLimit == 0 || c.memoryLimit > 1<<32:
		return c, fmt.Errorf("wasmhost: WithMemoryLimit(%d): must be between 1 byte and 4 GiB", c.memoryLimit)
	case c.maxOpen <= 0 || c.maxOpen > 1<<16:
		return c, fmt.Errorf("wasmhost: WithMaxOpenFiles(%d): must be between 1 and 65536", c.maxOpen)
	case c.maxConns <= 0 || c.maxConns > maxMaxConnections:
		return c, fmt.Errorf("wasmhost: WithMaxConnections(%d): must be between 1 and %d", c.maxConns, maxMaxConnections)
	case c.diskQuota <= 0:
		return c, fmt.Errorf("wasmhost: WithDiskQuota(%d): must be positive", c.diskQuota)
	case !c.trusted && c.callTimeout <= 0:
		return c, fmt.Errorf("wasmhost: WithCallTimeout(%v): must be positive (use WithTrusted for no deadline)", c.callTimeout)
	case c.maxResponse < MinMaxResponse:
		return c, fmt.Errorf("wasmhost: WithMaxResponse(%d) is below the minimum %d (store.MaxValueSize plus frame overhead)",
			c.maxResponse, MinMaxResponse)
	}
	for _, ep := range c.connect {
		if _, err := artifact.EndpointPort(ep); err != nil {
			return c, fmt.Errorf("wasmhost: WithConnect(%q): %w", ep, err)
		}
	}
	return c, nil
}

// memoryPages is the memory limit in whole pages.
func (c *config) memoryPages() uint32 {
	return uint32((c.memoryLimit + wasmPageSize - 1) / wasmPageSize)
}

// DefaultDiskQuota is how many bytes of files a guest may hold in its data directory
// (WithDiskQuota): a guest that wrote without end filled the disk at 1.4 GB/s.
const DefaultDiskQuota = 8 << 30

// DefaultMaxOpenFiles is how many files and directories one instance may have open at once in
// its data directory (WithMaxOpenFiles); an open past it fails with EIO (wazero's errors have no
// EMFILE). Every guest descriptor is a host descriptor, and a guest that opened them without
// end exhausted the host's own (an embedded database keeps a handful open).
const DefaultMaxOpenFiles = 256

// DefaultMaxConnections is how many TCP connections one instance may have open at once
// (WithMaxConnections): a driver's client holds a few to its server. Each is a descriptor of
// the host.
const DefaultMaxConnections = 16

// maxMaxConnections is the largest WithMaxConnections.
const maxMaxConnections = 4096
