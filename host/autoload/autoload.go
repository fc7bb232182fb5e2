// Package autoload registers, when it is imported, the driver artifacts of the drivers
// directories that the environment variable DOCKYARD_DRIVERS lists (separated as PATH is), so
// that an application opens WebAssembly and plugin drivers by name with no call of its own:
//
//	import (
//		_ "github.com/dockyard/dockyard/host/autoload" // drivers of $DOCKYARD_DRIVERS
//		"github.com/dockyard/dockyard/store"
//	)
//
//	s, err := store.OpenDSN(ctx, "inmem-wasm:/var/lib/app/kv")
//
// It links both transports (host/wasmhost and host/pluginhost). At start-up it reads and
// verifies every manifest (fields, ABI, the artifact's sha256) and registers its driver; it
// compiles nothing: a wasm module is compiled at the first store.Open of its driver
// (host.CompileOnOpen), on the per-user compilation cache (os.UserCacheDir()/dockyard/wazero),
// so a program with many drivers installed starts as fast as one with none and pays for the
// drivers it opens.
//
// Why an import and not a call: database/sql drivers and image decoders register by import,
// and an application that already picks its drivers by name (a flag, a config file) needs no
// new code to get the installed ones. What an import cannot do is return an error: a manifest
// that does not load is logged (slog.Default, at WARN, naming the file and field) and kept for
// Err, and the other drivers load all the same. An unset or empty DOCKYARD_DRIVERS loads
// nothing. A program that wants a logger of its own, a drivers directory not from the
// environment, or its errors at once calls host.LoadEnv or host.LoadDir instead.
package autoload

import (
	"context"
	"log/slog"

	"github.com/dockyard/dockyard/host"
	_ "github.com/dockyard/dockyard/host/pluginhost" // plugin binaries
	_ "github.com/dockyard/dockyard/host/wasmhost"   // WebAssembly modules
)

var (
	loaded  []host.Loaded
	loadErr error
)

func init() {
	loaded, loadErr = host.LoadEnv(context.Background(), host.CompileOnOpen())
	if loadErr != nil {
		slog.Warn("dockyard: some drivers of $"+host.EnvDrivers+" were not loaded", "err", loadErr)
	}
}

// Loaded returns the drivers registered at start-up, sorted by name.
func Loaded() []host.Loaded { return append([]host.Loaded(nil), loaded...) }

// Err returns the errors of the manifests and directories that did not load at start-up,
// joined (each a *host.ManifestError where a manifest was at fault), or nil.
func Err() error { return loadErr }
