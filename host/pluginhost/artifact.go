//go:build unix

package pluginhost

import (
	"context"
	"os"
	"strings"

	"github.com/dockyard/dockyard/host/artifact"
	"github.com/dockyard/dockyard/pdk"
)

// This file is the package's side of host/artifact: importing the package registers the plugin
// transport, through which package host runs the binaries its manifests name. The manifest's
// sha256 is the pinned checksum (WithChecksum), checked on the very bytes executed each time
// the process starts, restarts included: what runs is what the manifest pins, even if the file
// is replaced later. sandbox.call_timeout is the per-call deadline; interpreter runs the artifact; env, read, write, connect,
// require_containment and the max_ limits are the plugin's containment.

func init() { artifact.Register(transportOf{}) }

// transportOf is the plugin transport of host/artifact.
type transportOf struct{}

func (transportOf) Name() string    { return artifact.Plugin }
func (transportOf) MaxSize() int64  { return MaxBinarySize }
func (transportOf) ReadsCode() bool { return false }

// Open starts the binary for one driver.
func (transportOf) Open(ctx context.Context, a *artifact.Artifact, dsn string) (pdk.Driver, error) {
	return NewDriver(ctx, a.Path, dsn, artifactOptions(a)...)
}

// Prepare has nothing to do ahead: each driver starts a process of its own.
func (transportOf) Prepare(_ context.Context, a *artifact.Artifact) (artifact.Prepared, error) {
	return prepared{a: a, opts: artifactOptions(a)}, nil
}

type prepared struct {
	a    *artifact.Artifact
	opts []Option
}

func (p prepared) Open(ctx context.Context, dsn string) (pdk.Driver, error) {
	return NewDriver(ctx, p.a.Path, dsn, p.opts...)
}
func (prepared) Close() error { return nil }

// artifactOptions are the options for a's sandbox.
func artifactOptions(a *artifact.Artifact) []Option {
	sb := a.Sandbox
	opts := []Option{WithName(a.Name), WithChecksum(a.SHA256), WithLogger(a.Logger)}
	if sb.CallTimeout != 0 {
		opts = append(opts, WithCallTimeout(sb.CallTimeout))
	}
	if sb.Interpreter != "" {
		opts = append(opts, WithInterpreter(sb.Interpreter))
	}
	if len(a.Options) > 0 {
		opts = append(opts, WithDriverOptions(a.Options))
	}
	opts = append(opts, WithEnv(envOf(sb.Env)...), WithReadPaths(sb.Read...),
		WithWritePaths(sb.Write...), WithConnect(sb.Connect...))
	opts = append(opts, WithLimits(Limits{Memory: int64(sb.MaxMemory),
		OpenFiles: sb.MaxOpenFiles, Processes: sb.MaxProcesses, CPUTime: sb.MaxCPUTime}))
	if sb.RequireContainment {
		opts = append(opts, WithRequireContainment())
	}
	return opts
}

// envOf turns sandbox.env into variables: "NAME" takes the host's value, if it has one.
func envOf(entries []string) []string {
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
