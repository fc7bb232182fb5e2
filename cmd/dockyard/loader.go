package main

// This file is the CLI's only contact with package host (driver directories, manifests, bare
// artifacts) besides the manifest command's (manifest.go, whose subject is host's manifests), so
// that the rest of the CLI does not depend on its API.

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/dockyard/dockyard/host"
	_ "github.com/dockyard/dockyard/host/pluginhost" // the CLI runs drivers of both transports
	_ "github.com/dockyard/dockyard/host/wasmhost"
	"github.com/dockyard/dockyard/store"
)

// loadedInfo describes a driver loaded from a driver directory.
type loadedInfo = host.Loaded

// maxCallTimeout is the longest --call-timeout: a manifest's longest sandbox.call_timeout.
const maxCallTimeout = host.MaxCallTimeout

// withCallTimeout gives m the call timeout of conform --call-timeout, if one was given.
func (a *app) withCallTimeout(m *host.Manifest, what string) error {
	if a.callTimeout == 0 {
		return nil
	}
	if m.Sandbox.Trusted {
		return usagef("--call-timeout %v: %s is trusted (sandbox.trusted): its module runs without a call deadline", a.callTimeout, what)
	}
	m.Sandbox.CallTimeout = a.callTimeout
	return nil
}

// loadDrivers loads, once, the driver directories of $DOCKYARD_DRIVERS and then those of
// --drivers. A manifest or directory that fails to load is logged and remembered (a.loadErrs,
// shown by `dockyard drivers`); the drivers that loaded stay usable. host.LoadDir is
// idempotent, so loading a directory again in one process (as the tests do) is harmless.
func (a *app) loadDrivers(ctx context.Context) {
	a.loadOnce.Do(func() {
		// Verified now, compiled at the first open: a command uses one or two of the drivers
		// it loads, and compiling every module made a `get` take a second.
		opts := []host.Option{host.WithLogger(a.logger), host.CompileOnOpen()}
		if _, err := host.LoadEnv(ctx, opts...); err != nil {
			a.noteLoadErr(fmt.Errorf("$%s: %w", host.EnvDrivers, err))
		}
		for _, d := range a.driverDirs {
			if _, err := host.LoadDir(ctx, d, opts...); err != nil {
				a.noteLoadErr(fmt.Errorf("--drivers %s: %w", d, err))
			}
		}
	})
}

// noteLoadErr logs and remembers a load error, one per manifest (host joins them).
func (a *app) noteLoadErr(err error) {
	a.logger.Warn("driver not loaded", "err", err)
	a.loadErrs = append(a.loadErrs, err)
}

// loadedDriver returns the loaded driver registered as name, if it is one.
func (a *app) loadedDriver(name string) (loadedInfo, bool) {
	for _, l := range host.Registered() {
		if l.Name == name {
			return l, true
		}
	}
	return loadedInfo{}, false
}

// manifestTarget is the driver a manifest describes, opened without registering it. The
// artifact's hash is verified, and a wasm module compiled, once, at the first store
// (host.Manifest.Prepare); Close releases the module.
func (a *app) manifestTarget(_ context.Context, path string) (*target, error) {
	m, err := host.ReadManifest(path)
	if err != nil {
		return nil, err
	}
	if err := a.withCallTimeout(m, "manifest "+path); err != nil {
		return nil, err
	}
	t := &target{Name: m.Name, Transport: m.Transport, Artifact: m.ArtifactPath(), Manifest: path, SHA256: strings.ToLower(m.SHA256), ABI: m.ABI}
	t.form, t.declared = formOf(t.Name, t.Transport, m.DSNForm)
	a.prepareOnce(t, func(ctx context.Context) (*host.Prepared, error) {
		return m.Prepare(ctx, host.WithLogger(a.logger))
	})
	return t, nil
}

// prepareOnce makes t open its stores on what prepare returns, prepared at the first store
// and released by t.Close.
func (a *app) prepareOnce(t *target, prepare func(context.Context) (*host.Prepared, error)) {
	var (
		mu sync.Mutex
		p  *host.Prepared
	)
	opener := func(readOnly bool) func(ctx context.Context, dsn string) (store.Store, error) {
		return func(ctx context.Context, dsn string) (store.Store, error) {
			mu.Lock()
			defer mu.Unlock() // stores open one at a time: opening is quick, the prepare is not
			if p == nil {
				var err error
				if p, err = prepare(ctx); err != nil {
					return nil, err
				}
				t.release = p.Close
			}
			if readOnly {
				return p.OpenReadOnly(ctx, dsn)
			}
			return p.Open(ctx, dsn)
		}
	}
	t.open, t.openRO = opener(false), opener(true)
}

// artifactTarget is a bare artifact: a WebAssembly module (wasm transport) or an executable
// (plugin transport), with the default sandbox.
func (a *app) artifactTarget(_ context.Context, path string) (*target, error) {
	m, err := host.Inspect(path)
	if err != nil {
		return nil, err
	}
	if err := a.withCallTimeout(m, "artifact "+path); err != nil {
		return nil, err
	}
	t := &target{Name: m.Name, Transport: m.Transport, Artifact: path, SHA256: m.SHA256}
	t.form, t.declared = formOf(t.Name, t.Transport, "") // a bare artifact declares no form
	a.prepareOnce(t, func(ctx context.Context) (*host.Prepared, error) {
		return m.Prepare(ctx, host.WithLogger(a.logger))
	})
	return t, nil
}
