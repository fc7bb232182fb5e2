package host

import (
	"context"
	"log/slog"

	hostplugin "github.com/dockyard/dockyard/host/plugin"
	"github.com/dockyard/dockyard/store"
)

// This file is the plugin transport's side of the package. The manifest's sha256 becomes
// go-plugin's SecureConfig checksum (hostplugin.WithChecksum), which go-plugin checks against
// the file each time it starts the process, restarts included: what runs is what the manifest
// pins, even if the file is replaced later. sandbox.call_timeout is the per-call deadline;
// memory_limit and trusted are refused for plugins when the manifest is read.

// openPlugin starts the plugin binary at artifact, whose sha256 is sum, and opens a store on it.
func openPlugin(ctx context.Context, m *Manifest, artifact string, sum []byte, dsn string, logger *slog.Logger) (store.Store, error) {
	opts := []hostplugin.Option{hostplugin.WithName(m.Name), hostplugin.WithChecksum(sum)}
	if logger != nil {
		opts = append(opts, hostplugin.WithLogger(logger))
	}
	if m.Sandbox.CallTimeout != 0 {
		opts = append(opts, hostplugin.WithCallTimeout(m.Sandbox.CallTimeout))
	}
	if len(m.Options) > 0 {
		opts = append(opts, hostplugin.WithDriverOptions(m.Options))
	}
	return hostplugin.Open(ctx, artifact, dsn, opts...)
}
