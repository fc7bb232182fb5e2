package host

import "log/slog"

// Option configures LoadDir, LoadEnv, Manifest.Open and OpenArtifact (CompileOnOpen only
// LoadDir and LoadEnv).
type Option func(*config)

type config struct {
	logger         *slog.Logger
	cacheDir       *string // nil: the wasm transport's default
	refuseWritable bool
	compileOnOpen  bool
}

// CompileOnOpen makes LoadDir and LoadEnv verify each artifact (manifest, sha256, transport)
// when they load it but prepare it - compile a wasm module - at the first store.Open of its
// driver, not at load: a program that loads a directory of drivers and opens one pays for
// that one (a CLI command, an application with many drivers installed). The price is that a
// module that does not compile is reported by that Open, not by the load. Without it, the load
// compiles every module, so that a bad one is found at start-up.
func CompileOnOpen() Option { return func(c *config) { c.compileOnOpen = true } }

// WithRefuseWritable refuses to load a driver whose drivers directory, manifest or artifact is
// group- or world-writable (an error wrapping ErrWritable, naming the path), instead of
// loading it with a warning.
func WithRefuseWritable() Option { return func(c *config) { c.refuseWritable = true } }

// WithLogger sets the logger of this package and of the transports: drivers' output, sandbox
// warnings, plugin logs. The default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithCacheDir sets the directory of the wasm transport's on-disk compilation cache
// (wasmhost.WithCacheDir): a module compiled once to native code is not compiled again by
// later processes. An empty dir disables the disk cache. The default is the transport's,
// os.UserCacheDir()/dockyard/wazero.
func WithCacheDir(dir string) Option { return func(c *config) { c.cacheDir = &dir } }

func resolve(opts []Option) config {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	return c
}
