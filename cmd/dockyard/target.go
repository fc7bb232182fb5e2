package main

import (
	"context"
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

// dsnForm is the kind of DSN a driver takes, which decides how the CLI makes a throwaway one
// (for conform, and to read a driver's capabilities in drivers).
type dsnForm string

const (
	dsnEmpty  = dsnForm(pdk.DSNEmpty)  // the DSN is ignored: ""
	dsnFile   = dsnForm(pdk.DSNFile)   // a file path inside a fresh directory
	dsnDir    = dsnForm(pdk.DSNDir)    // a fresh, existing directory
	dsnServer = dsnForm(pdk.DSNServer) // a server: no throwaway DSN can be made in general
)

// defaultDSNForm is the DSN form the CLI assumes for a driver: the one an in-process driver
// declares (pdk.DeclareDSN), a directory for an artifact or a driver that declares none;
// conform --dsn-form overrides it.
func defaultDSNForm(name, transport string) dsnForm {
	if transport == transportInProcess {
		if f, ok := pdk.DSNOf(name); ok {
			return dsnForm(f)
		}
	}
	return dsnDir
}

// parseDSNForm parses a --dsn-form value; "auto" (or "") is def.
func parseDSNForm(s string, def dsnForm) (dsnForm, error) {
	switch f := dsnForm(s); f {
	case "", "auto":
		return def, nil
	case dsnEmpty, dsnFile, dsnDir:
		return f, nil
	}
	return "", usagef("--dsn-form %q: want auto, empty, file or dir", s)
}

// throwawayDSN makes a fresh DSN of form f inside dir (which exists and is fresh).
func throwawayDSN(f dsnForm, dir string) (string, error) {
	switch f {
	case dsnEmpty:
		return "", nil
	case dsnFile:
		return filepath.Join(dir, "store.db"), nil
	case dsnDir:
		d := filepath.Join(dir, "data")
		if err := os.Mkdir(d, 0o700); err != nil {
			return "", fmt.Errorf("make a data directory: %w", err)
		}
		return d, nil
	}
	return "", fmt.Errorf("no throwaway DSN can be made for a driver whose DSN names a %s", f)
}

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

	open    func(ctx context.Context, dsn string) (store.Store, error)
	release func() // frees what open shares between stores (a compiled module); may be nil
}

// Close releases what the target holds.
func (t *target) Close() {
	if t.release != nil {
		t.release()
	}
}

// declaresForm reports whether t's DSN form is the driver's own declaration (an in-process
// driver's pdk.DeclareDSN) rather than a guess (an artifact's, or an undeclared driver's).
func (t *target) declaresForm() bool {
	if t.Transport != transportInProcess {
		return false
	}
	_, ok := pdk.DSNOf(t.Name)
	return ok
}

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
	if loaded {
		t.Transport, t.Artifact, t.Manifest, t.SHA256, t.ABI = l.Transport, l.Artifact, l.Manifest, l.SHA256, l.ABI
	}
	t.form = defaultDSNForm(t.Name, t.Transport)
	t.open = func(ctx context.Context, dsn string) (store.Store, error) { return store.Open(ctx, spec, dsn) }
	return t, nil
}

// openStore resolves driver and opens a store on dsn; the caller closes both.
func (a *app) openStore(ctx context.Context, driver, dsn string) (store.Store, *target, error) {
	return a.openTarget(ctx, driver, dsn, false)
}

// openExisting is openStore for the commands that only read: a store kept in a file or a
// directory must exist already. Opening a sqlite file or a buntdb directory creates it, so a
// mistyped DSN would otherwise leave an empty store behind and print nothing found.
func (a *app) openExisting(ctx context.Context, driver, dsn string) (store.Store, *target, error) {
	return a.openTarget(ctx, driver, dsn, true)
}

func (a *app) openTarget(ctx context.Context, driver, dsn string, mustExist bool) (store.Store, *target, error) {
	if driver == "" {
		return nil, nil, usagef("--driver is required")
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
	s, err := t.open(ctx, dsn)
	if err != nil {
		t.Close()
		return nil, nil, fmt.Errorf("open %s store %q: %w", t.Name, dsn, err)
	}
	return s, t, nil
}

// checkExists checks the file or directory a DSN of t's form names exists. A URL DSN given to
// a driver whose form is a guess (an artifact) names a server, not a path: nothing to check.
func checkExists(t *target, dsn string) error {
	if strings.Contains(dsn, "://") && !t.declaresForm() {
		return nil
	}
	var want string
	switch t.form {
	case dsnFile:
		want = "file"
	case dsnDir:
		want = "directory"
	default:
		return nil
	}
	if dsn == "" {
		return usagef("--dsn is required: the %s store's %s", t.Name, want)
	}
	fi, err := os.Stat(dsn)
	switch {
	case err != nil:
		return fmt.Errorf("no %s store at %s (%w): a command that only reads never creates one", t.Name, dsn, err)
	case (want == "directory") != fi.IsDir():
		return fmt.Errorf("no %s store at %s: it is not a %s", t.Name, dsn, want)
	}
	return nil
}

// dsnMaker makes the DSN of a new, empty store, and a function that removes it.
type dsnMaker func() (dsn string, remove func(), err error)

// dirDSNs makes DSNs of form, each inside a fresh directory under parent ("" for the system's
// temporary directory).
func dirDSNs(form dsnForm, parent string) dsnMaker {
	return func() (string, func(), error) {
		dir, err := os.MkdirTemp(parent, "dockyard-store-")
		if err != nil {
			return "", nil, fmt.Errorf("make a directory for a store: %w", err)
		}
		remove := func() { _ = os.RemoveAll(dir) }
		dsn, err := throwawayDSN(form, dir)
		if err != nil {
			remove()
			return "", nil, err
		}
		return dsn, remove, nil
	}
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

// splitDriverDSN splits a copy endpoint DRIVER:DSN at its first ':' (DSNs, such as postgres
// and etcd URLs and Windows paths, may hold more).
func splitDriverDSN(flag, s string) (driver, dsn string, err error) {
	driver, dsn, ok := strings.Cut(s, ":")
	if !ok || driver == "" {
		return "", "", usagef("--%s %q: want DRIVER:DSN (e.g. sqlite:./app.db, inmem:)", flag, s)
	}
	return driver, dsn, nil
}
