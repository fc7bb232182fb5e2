package host

import "log/slog"

// Option configures LoadDir, LoadEnv, Manifest.Open and OpenArtifact.
type Option func(*config)

type config struct {
	logger         *slog.Logger
	cacheDir       *string // nil: the wasm transport's default
	refuseWritable bool
}

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
