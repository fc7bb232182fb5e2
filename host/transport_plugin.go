package host

import (
	"context"
	"log/slog"
	"os"
	"strings"

	"github.com/dockyard/dockyard/host/pluginhost"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// This file is the plugin transport's side of the package. The manifest's sha256 is the pinned
// checksum (pluginhost.WithChecksum), checked on the very bytes executed each time the process
// starts, restarts included: what runs is what the manifest pins, even if the file is replaced
// later. sandbox.call_timeout is the per-call deadline; env, read, write, connect and
// require_containment are the plugin's containment; memory_limit and trusted are refused for
// plugins when the manifest is read.

// openPlugin starts the plugin binary at artifact, whose sha256 is sum, and opens a store on it.
func openPlugin(ctx context.Context, m *Manifest, artifact string, sum []byte, dsn string, logger *slog.Logger) (store.Store, error) {
	opts := []pluginhost.Option{pluginhost.WithName(m.Name), pluginhost.WithChecksum(sum)}
	if logger != nil {
		opts = append(opts, pluginhost.WithLogger(logger))
	}
	if m.Sandbox.CallTimeout != 0 {
		opts = append(opts, pluginhost.WithCallTimeout(m.Sandbox.CallTimeout))
	}
	if len(m.Options) > 0 {
		opts = append(opts, pluginhost.WithDriverOptions(m.Options))
	}
	sb := m.Sandbox
	opts = append(opts, pluginhost.WithEnv(pluginEnv(sb.Env)...), pluginhost.WithReadPaths(sb.Read...),
		pluginhost.WithWritePaths(sb.Write...), pluginhost.WithConnect(sb.Connect...))
	opts = append(opts, pluginhost.WithLimits(pluginhost.Limits{Memory: int64(sb.MaxMemory),
		OpenFiles: sb.MaxOpenFiles, Processes: sb.MaxProcesses, CPUTime: sb.MaxCPUTime}))
	if sb.RequireContainment {
		opts = append(opts, pluginhost.WithRequireContainment())
	}
	d, err := pluginhost.NewDriver(ctx, artifact, dsn, opts...)
	if err != nil {
		return nil, err
	}
	return pdk.NewStore(d, storeOptions(m)...), nil
}

// pluginEnv turns sandbox.env into variables: "NAME" takes the host's value, if it has one.
func pluginEnv(entries []string) []string {
	var env []string
	for _, e := range entries {
		if strings.Contains(e, "=") {
			env = append(env, e)
		} else if v, ok := os.LookupEnv(e); ok {
			env = append(env, e+"="+v)
		}
	}
	return env
}
