package host

import (
	"context"
	"errors"
	"sync"

	"github.com/dockyard/dockyard/host/wasmhost"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// This file is the wasm transport's side of the package: a manifest's sandbox settings become
// wasmhost options, and verified module bytes become a compiled module. The module is compiled
// from the very bytes that were hashed, never re-read from the file, so what runs is what the
// manifest pins. (It is not named transport_wasm.go: Go reads a _wasm suffix as a GOARCH
// constraint and would build the file for GOARCH=wasm only.)

// wasmOptions are the wasmhost options for m.
func wasmOptions(m *Manifest, cfg config) []wasmhost.Option {
	opts := []wasmhost.Option{wasmhost.WithName(m.Name), wasmhost.WithLogger(cfg.logger)}
	if cfg.cacheDir != nil {
		opts = append(opts, wasmhost.WithCacheDir(*cfg.cacheDir))
	}
	if m.Sandbox.MemoryLimit != 0 {
		opts = append(opts, wasmhost.WithMemoryLimit(uint64(m.Sandbox.MemoryLimit)))
	}
	if m.Sandbox.MaxOpenFiles != 0 {
		opts = append(opts, wasmhost.WithMaxOpenFiles(int(m.Sandbox.MaxOpenFiles)))
	}
	if m.Sandbox.DiskQuota != 0 {
		opts = append(opts, wasmhost.WithDiskQuota(int64(m.Sandbox.DiskQuota)))
	}
	if m.Sandbox.CallTimeout != 0 {
		opts = append(opts, wasmhost.WithCallTimeout(m.Sandbox.CallTimeout))
	}
	if m.Sandbox.Trusted {
		opts = append(opts, wasmhost.WithTrusted())
	}
	if len(m.Options) > 0 {
		opts = append(opts, wasmhost.WithDriverOptions(m.Options))
	}
	return opts
}

// loadWasm compiles code once for a registered driver: the factory opens every store of the
// driver on the one module, which stays open for the life of the process (a registry entry
// cannot be removed). release closes the module, for a load that fails after compiling.
func loadWasm(ctx context.Context, m *Manifest, code []byte, cfg config) (factory store.Factory, release func(), err error) {
	mod, err := wasmhost.Compile(ctx, code, wasmOptions(m, cfg)...)
	if err != nil {
		return nil, nil, err
	}
	opts := storeOptions(m)
	factory = func(ctx context.Context, dsn string) (store.Store, error) {
		d, err := mod.NewDriver(ctx, dsn)
		if err != nil {
			return nil, err
		}
		return pdk.NewStore(d, opts...), nil
	}
	return factory, func() { mod.Close(context.WithoutCancel(ctx)) }, nil
}

// openWasm compiles code and opens one store on it; the module is closed with the store.
func openWasm(ctx context.Context, m *Manifest, code []byte, dsn string, cfg config) (store.Store, error) {
	mod, err := wasmhost.Compile(ctx, code, wasmOptions(m, cfg)...)
	if err != nil {
		return nil, err
	}
	d, err := mod.NewDriver(ctx, dsn)
	if err != nil {
		mod.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return pdk.NewStore(&moduleDriver{Driver: d, mod: mod}, storeOptions(m)...), nil
}

// moduleDriver is a driver that owns its module: closing the driver closes the module after it.
// It goes under pdk.NewStore, so pdk.InfoOf still describes the store.
type moduleDriver struct {
	pdk.Driver
	mod *wasmhost.Module

	once sync.Once
	err  error
}

func (d *moduleDriver) Close() error {
	d.once.Do(func() { d.err = errors.Join(d.Driver.Close(), d.mod.Close(context.Background())) })
	return d.err
}

// storeOptions are the adapter's options a manifest sets: the bounds of a scan.
func storeOptions(m *Manifest) []pdk.Option {
	sb := m.Sandbox
	return []pdk.Option{pdk.WithMaxScanEntries(int(sb.MaxScanEntries)), pdk.WithMaxScanBytes(int(sb.MaxScanBytes)),
		pdk.WithScanTimeout(sb.ScanTimeout)} // zero: the default
}
