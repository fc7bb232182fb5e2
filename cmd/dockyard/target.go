package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// Transports, as the drivers command shows them.
const (
	transportInProcess = "in-process"
	transportWasm      = "wasm"
	transportPlugin    = "plugin"
)

// target is a driver the CLI opens stores of: a registered driver (compiled in, or loaded from
// a driver directory), a manifest, or a bare artifact.
type target struct {
	Name      string // the driver's name
	Transport string // transportInProcess, transportWasm or transportPlugin
	Artifact  string // the artifact's path, for loaded drivers
	Manifest  string // the manifest's path, if any
	SHA256    string // the artifact's sha256, hex
	ABI       string // the artifact's ABI version, e.g. "1.0"
	form      dsnForm
	declared  bool // form is the driver's own declaration, not a guess (see formOf)

	open func(ctx context.Context, dsn string) (store.Store, error)
	// openRO opens as store.OpenReadOnly does: never creating a store.
	openRO func(ctx context.Context, dsn string) (store.Store, error)
	// release frees what open shares between stores (a compiled module); may be nil.
	release func()
}

// Close releases what the target holds.
func (t *target) Close() {
	if t.release != nil {
		t.release()
	}
}

// declaresForm reports whether t's DSN form is the driver's own declaration (an in-process
// driver's pdk.DeclareDSN, a manifest's dsn_form) rather than a guess (a directory).
func (t *target) declaresForm() bool { return t.declared }

// isPath reports whether spec names a file rather than a driver: it contains a path
// separator, or ends in .json or .wasm, or a file of that name exists.
func isPath(spec string) bool {
	if strings.ContainsRune(spec, '/') || strings.ContainsRune(spec, filepath.Separator) {
		return true
	}
	if ext := strings.ToLower(filepath.Ext(spec)); ext == ".json" || ext == ".wasm" {
		return true
	}
	return false
}

// resolve finds the driver spec names: a manifest (*.json), an artifact (any other path), or
// the name of a registered driver.
func (a *app) resolve(ctx context.Context, spec string) (*target, error) {
	if spec == "" {
		return nil, usagef("no driver given")
	}
	a.loadDrivers(ctx)
	if isPath(spec) {
		if _, err := os.Stat(spec); err != nil {
			return nil, fmt.Errorf("driver %q: %w", spec, err)
		}
		if strings.EqualFold(filepath.Ext(spec), ".json") {
			return a.manifestTarget(ctx, spec)
		}
		return a.artifactTarget(ctx, spec)
	}
	if !slices.Contains(store.Drivers(), spec) {
		more := ""
		if len(a.loadErrs) > 0 {
			more = fmt.Sprintf("; %d driver directories failed to load, see `dockyard drivers`", len(a.loadErrs))
		}
		if more == "" { // a name nothing could have provided: the command line is wrong
			return nil, usagef("driver %q: %w (available: %s)", spec, store.ErrUnknownDriver, strings.Join(store.Drivers(), ", "))
		}
		return nil, fmt.Errorf("driver %q: %w (available: %s%s)", spec, store.ErrUnknownDriver, strings.Join(store.Drivers(), ", "), more)
	}
	t := &target{Name: spec, Transport: transportInProcess}
	l, loaded := a.loadedDriver(spec)
	switch {
	case a.callTimeout != 0 && loaded:
		// The registered driver runs with its manifest's deadline: open the manifest anew.
		return a.manifestTarget(ctx, l.Manifest)
	case a.callTimeout != 0:
		return nil, usagef("--call-timeout is the deadline of each call into a wasm or plugin driver; %s runs in process", spec)
	}
	var declared pdk.DSNForm
	if loaded {
		t.Transport, t.Artifact, t.Manifest, t.SHA256, t.ABI = l.Transport, l.Artifact, l.Manifest, l.SHA256, l.ABI
		declared = l.DSNForm
	}
	t.form, t.declared = formOf(t.Name, t.Transport, declared)
	t.open = func(ctx context.Context, dsn string) (store.Store, error) { return store.Open(ctx, spec, dsn) }
	t.openRO = func(ctx context.Context, dsn string) (store.Store, error) { return store.OpenReadOnly(ctx, spec, dsn) }
	return t, nil
}

// openStore resolves driver and opens a store on dsn; the caller closes both.
func (a *app) openStore(ctx context.Context, driver, dsn string) (store.Store, *target, error) {
	return a.openTarget(ctx, driver, dsn, false)
}

// openExisting is openStore for the commands that only read: the store is opened read-only
// (store.OpenReadOnly), so that a mistyped DSN is an error (store.ErrNoStore) instead of a new,
// empty store (a sqlite file, a buntdb directory, a PostgreSQL table) and nothing found. A
// driver that cannot open read-only (an artifact built before ABI 1.2) is opened as before,
// after checking that a store kept in a file or a directory exists.
func (a *app) openExisting(ctx context.Context, driver, dsn string) (store.Store, *target, error) {
	return a.openTarget(ctx, driver, dsn, true)
}

func (a *app) openTarget(ctx context.Context, driver, dsn string, mustExist bool) (store.Store, *target, error) {
	if driver == "" {
		return nil, nil, usagef("--driver is required (or the store as one --store DRIVER:DSN, or $%s)", EnvStore)
	}
	t, err := a.resolve(ctx, driver)
	if err != nil {
		return nil, nil, err
	}
	if mustExist {
		if err := checkExists(t, dsn); err != nil {
			t.Close()
			return nil, nil, err
		}
	}
	s, err := a.openWith(ctx, t, dsn, mustExist)
	if err != nil {
		t.Close()
		return nil, nil, fmt.Errorf("open %s store %q: %w", t.Name, pdk.RedactDSN(dsn), err)
	}
	return s, t, nil
}

// openWith opens a store of t on dsn, read-only if readOnly (falling back to a plain open for
// a driver that cannot, logged).
func (a *app) openWith(ctx context.Context, t *target, dsn string, readOnly bool) (store.Store, error) {
	if !readOnly || t.openRO == nil {
		return t.open(ctx, dsn)
	}
	s, err := t.openRO(ctx, dsn)
	if errors.Is(err, store.ErrReadOnlyUnsupported) {
		a.logger.Debug("driver cannot open read-only; opening it read-write", "driver", t.Name, "err", err)
		return t.open(ctx, dsn)
	}
	return s, err
}

// probe opens a store of t on a new DSN and returns what its driver declares.
func probe(ctx context.Context, t *target, newDSN dsnMaker) (pdk.Info, error) {
	dsn, remove, err := newDSN()
	if err != nil {
		return pdk.Info{}, fmt.Errorf("probe %s: %w", t.Name, err)
	}
	defer remove()
	s, err := t.open(ctx, dsn)
	if err != nil {
		return pdk.Info{}, fmt.Errorf("probe %s: open a store on the throwaway DSN %q: %w", t.Name, dsn, err)
	}
	defer s.Close()
	return infoOf(t.Name, s)
}

// infoOf is pdk.InfoOf, failing for a store that is not built on the driver kit.
func infoOf(name string, s store.Store) (pdk.Info, error) {
	info, ok := pdk.InfoOf(s)
	if !ok {
		return pdk.Info{}, fmt.Errorf("driver %s: its stores are not built on the driver kit (pdk), so its capabilities are unknown", name)
	}
	return info, nil
}

// splitDriverDSN splits the DRIVER:DSN value of flag (--store, copy's --from and --to) as
// store.SplitDSN does, the one parser of the form; a malformed value is a usage error.
func splitDriverDSN(flag, s string) (driver, dsn string, err error) {
	driver, dsn, err = store.SplitDSN(s)
	if err != nil {
		return "", "", usagef("%s: %w", flag, err)
	}
	return driver, dsn, nil
}
