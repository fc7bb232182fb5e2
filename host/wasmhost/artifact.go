package wasmhost

import (
	"context"

	"github.com/dockyard/dockyard/host/artifact"
	"github.com/dockyard/dockyard/pdk"
)

// This file is the package's side of host/artifact: importing the package registers the wasm
// transport, through which package host runs the modules its manifests name. A manifest's
// sandbox settings become this package's options, and the module is compiled from the very
// bytes host verified against the manifest's sha256, never read again from the file.

func init() { artifact.Register(transportOf{}) }

// transportOf is the wasm transport of host/artifact.
type transportOf struct{}

func (transportOf) Name() string    { return artifact.Wasm }
func (transportOf) MaxSize() int64  { return MaxModuleSize }
func (transportOf) ReadsCode() bool { return true }

// Open compiles the module for one driver, which owns it: closing the driver closes the module.
func (transportOf) Open(ctx context.Context, a *artifact.Artifact, dsn string) (pdk.Driver, error) {
	m, err := Compile(ctx, a.Code, artifactOptions(a)...)
	if err != nil {
		return nil, err
	}
	return m.ownedDriver(ctx, dsn)
}

// Prepare compiles the module once for every driver opened on the result.
func (transportOf) Prepare(ctx context.Context, a *artifact.Artifact) (artifact.Prepared, error) {
	m, err := Compile(ctx, a.Code, artifactOptions(a)...)
	if err != nil {
		return nil, err
	}
	return prepared{m}, nil
}

// prepared is a compiled module as host/artifact's Prepared.
type prepared struct{ m *Module }

func (p prepared) Open(ctx context.Context, dsn string) (pdk.Driver, error) {
	return p.m.NewDriver(ctx, dsn)
}
func (p prepared) Close() error { return p.m.Close(context.Background()) }

// artifactOptions are the options for a's sandbox.
func artifactOptions(a *artifact.Artifact) []Option {
	sb := a.Sandbox
	opts := []Option{WithName(a.Name), WithLogger(a.Logger)}
	if a.CacheDir != nil {
		opts = append(opts, WithCacheDir(*a.CacheDir))
	}
	if sb.MemoryLimit != 0 {
		opts = append(opts, WithMemoryLimit(uint64(sb.MemoryLimit)))
	}
	if sb.MaxOpenFiles != 0 {
		opts = append(opts, WithMaxOpenFiles(int(sb.MaxOpenFiles)))
	}
	if sb.DiskQuota != 0 {
		opts = append(opts, WithDiskQuota(int64(sb.DiskQuota)))
	}
	if sb.CallTimeout != 0 {
		opts = append(opts, WithCallTimeout(sb.CallTimeout))
	}
	if sb.Trusted {
		opts = append(opts, WithTrusted())
	}
	if a.DSNForm == pdk.DSNServer {
		opts = append(opts, WithServerDSN())
	}
	if len(sb.Connect) > 0 {
		opts = append(opts, WithConnect(sb.Connect...))
	}
	if len(a.Options) > 0 {
		opts = append(opts, WithDriverOptions(a.Options))
	}
	return opts
}
