package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// EnvDrivers is the environment variable LoadEnv reads: a list of drivers directories,
// separated as PATH is (filepath.ListSeparator: ':' on Unix, ';' on Windows).
const EnvDrivers = "DOCKYARD_DRIVERS"

// Loaded describes a driver registered by LoadDir.
type Loaded struct {
	// Name is the name the driver is registered under: store.Open(ctx, Name, dsn) opens it.
	Name string `json:"name"`
	// Transport is TransportWasm or TransportPlugin.
	Transport string `json:"transport"`
	// Artifact is the artifact's absolute path.
	Artifact string `json:"artifact"`
	// SHA256 is the artifact's sha256 (verified), in lower-case hex.
	SHA256 string `json:"sha256"`
	// ABI is the ABI version the manifest declares.
	ABI string `json:"abi"`
	// DSNForm is the form of the driver's DSN the manifest declares (also declared with
	// pdk.DeclareDSN), or "" if it declares none (a directory, the transports' default).
	DSNForm pdk.DSNForm `json:"dsn_form,omitempty"`
	// Manifest is the absolute path of the manifest the driver was loaded from.
	Manifest string `json:"manifest"`
}

// loaded is a driver this package registered, with the settings it was registered with, which
// a later manifest for the same name must repeat.
type loaded struct {
	info Loaded
	m    Manifest
}

var (
	// loadMu serializes loads, so that two LoadDir calls never compile or register one
	// driver twice.
	loadMu sync.Mutex
	// tableMu guards table; it is held only briefly, so Registered never waits for a compile.
	tableMu sync.RWMutex
	table   = map[string]*loaded{}
)

// Registered returns every driver this process loaded with LoadDir or LoadEnv, sorted by
// name. Compiled-in drivers are not listed (store.Drivers lists every name).
func Registered() []Loaded {
	tableMu.RLock()
	defer tableMu.RUnlock()
	out := make([]Loaded, 0, len(table))
	for _, l := range table {
		out = append(out, l.info)
	}
	slices.SortFunc(out, func(a, b Loaded) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// LoadEnv loads every drivers directory listed in the environment variable EnvDrivers
// (DOCKYARD_DRIVERS), in order, with LoadDir. Unset or empty, it loads nothing and returns no
// error; empty list elements are skipped. It returns the drivers it registered and the errors
// of every directory, joined.
func LoadEnv(ctx context.Context, opts ...Option) ([]Loaded, error) {
	var (
		all  []Loaded
		errs []error
	)
	for _, dir := range filepath.SplitList(os.Getenv(EnvDrivers)) {
		if dir == "" {
			continue
		}
		l, err := LoadDir(ctx, dir, opts...)
		all = append(all, l...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	slices.SortFunc(all, func(a, b Loaded) int { return strings.Compare(a.Name, b.Name) })
	return all, errors.Join(errs...)
}

// LoadDir registers, with store.Register, the driver of every manifest in dir, so that
// store.Open(ctx, name, dsn) opens it. A manifest is a file directly in dir whose name ends in
// ".json" and does not start with "."; every other entry (artifacts, subdirectories, hidden
// files such as editors' and atomic writers' temporary files) is ignored.
//
// Each manifest is read and validated (see ReadManifest), its artifact hashed and checked
// against the manifest's sha256, a wasm module compiled (once: every store of the driver is
// opened on that module; with CompileOnOpen, at the driver's first store.Open instead), and the
// driver registered, logged at DEBUG; any failure registers nothing for that manifest. A bad manifest does not stop the others: LoadDir registers every good one and
// returns, with them, the errors of the bad ones joined (each a *ManifestError naming the file
// and field, wrapping ErrBadManifest). An unreadable dir is an error of its own.
//
// LoadDir is idempotent, so an application may poll a directory: a manifest for a name this
// package registered before, with the same artifact hash and settings, is skipped without
// error (and its artifact is not hashed again, so a poll costs a stat and a small read per
// manifest). A registry entry cannot be replaced, so the same name with another artifact (or other
// settings) is an error until the process restarts, as is a name registered by other code
// (a compiled-in driver), and two manifests of one directory declaring one name. None of these
// panics. The result lists only the drivers this call registered, sorted by name.
func LoadDir(ctx context.Context, dir string, opts ...Option) ([]Loaded, error) {
	cfg := resolve(opts)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("host: drivers directory: %w", err)
	}
	loadMu.Lock()
	defer loadMu.Unlock()
	var (
		out  []Loaded
		errs []error
		seen = map[string]string{} // driver name -> manifest declaring it in dir
	)
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") {
			continue
		}
		if err := ctx.Err(); err != nil {
			errs = append(errs, fmt.Errorf("host: loading %s: %w", dir, err))
			break
		}
		l, err := loadManifest(ctx, filepath.Join(dir, name), seen, cfg)
		if err != nil {
			errs = append(errs, err)
		} else if l != nil {
			out = append(out, *l)
		}
	}
	slices.SortFunc(out, func(a, b Loaded) int { return strings.Compare(a.Name, b.Name) })
	return out, errors.Join(errs...)
}

// loadManifest loads the manifest at path: it returns the driver it registered, or nil for an
// unchanged manifest already loaded.
func loadManifest(ctx context.Context, path string, seen map[string]string, cfg config) (*Loaded, error) {
	m, err := ReadManifest(path)
	if err != nil {
		return nil, err
	}
	if other, dup := seen[m.Name]; dup {
		return nil, &ManifestError{Path: path, Field: "name", Err: because(store.ErrDuplicateDriver,
			"driver %q is declared by %s too: one name, one manifest per directory", m.Name, other)}
	}
	seen[m.Name] = path

	tableMu.RLock()
	prev := table[m.Name]
	tableMu.RUnlock()
	if prev != nil {
		if field := differs(&prev.m, m); field != "" {
			return nil, &ManifestError{Path: path, Field: field, Err: because(store.ErrDuplicateDriver,
				"driver %q is already registered from %s (sha256 %s) with another %s; a registered driver cannot be replaced: restart the process to load this one",
				m.Name, prev.info.Manifest, prev.info.SHA256, field)}
		}
		cfg.logger.Debug("driver manifest unchanged", "driver", m.Name, "manifest", path)
		return nil, nil
	}
	if slices.Contains(store.Drivers(), m.Name) {
		return nil, &ManifestError{Path: path, Field: "name", Err: because(store.ErrDuplicateDriver,
			"name %q is already registered (a compiled-in driver, or one registered by other code)", m.Name)}
	}

	t, a, err := m.verified(cfg)
	if err != nil {
		if errors.Is(err, ErrTransportNotLinked) {
			return nil, &ManifestError{Path: path, Field: "transport", Err: err}
		}
		return nil, err
	}
	factory, release := store.Factory(nil), func() {}
	if cfg.compileOnOpen {
		factory = (&onFirstOpen{t: t, a: a, m: m, path: path}).Open
	} else {
		tp, err := t.Prepare(ctx, a)
		if err != nil {
			return nil, &ManifestError{Path: path, Field: "artifact", Err: err}
		}
		p := &Prepared{Manifest: m, p: tp}
		release, factory = p.Close, p.Open
	}
	artifact := m.ArtifactPath()
	manifest, err := filepath.Abs(path)
	if err != nil {
		manifest = path
	}
	if err := checkWritable(cfg, m.Name, filepath.Dir(manifest), manifest, artifact); err != nil {
		release()
		return nil, &ManifestError{Path: path, Err: err}
	}
	if err := register(m.Name, factory); err != nil {
		release()
		return nil, &ManifestError{Path: path, Field: "name", Err: err}
	}
	if m.DSNForm != "" { // after Register: a name that failed to register keeps its declaration
		pdk.DeclareDSN(m.Name, m.DSNForm)
	}
	info := Loaded{Name: m.Name, Transport: m.Transport, Artifact: artifact, SHA256: strings.ToLower(m.SHA256),
		ABI: m.ABI, DSNForm: m.DSNForm, Manifest: manifest}
	tableMu.Lock()
	table[m.Name] = &loaded{info: info, m: *m}
	tableMu.Unlock()
	cfg.logger.Debug("driver loaded", "driver", m.Name, "transport", m.Transport, "artifact", artifact,
		"sha256", info.SHA256, "manifest", path)
	return &info, nil
}

// register calls store.Register, turning its panic (a name registered in the meantime by other
// code) into an error.
func register(name string, factory store.Factory) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok && errors.Is(e, store.ErrDuplicateDriver) {
				err = because(store.ErrDuplicateDriver, "name %q is already registered (a compiled-in driver, or one registered by other code)", name)
				return
			}
			err = fmt.Errorf("store.Register(%q) panicked: %v", name, r)
		}
	}()
	store.Register(name, factory)
	return nil
}

// differs names the first manifest field in which b's driver differs from a's, or "".
func differs(a, b *Manifest) string {
	switch {
	case !strings.EqualFold(a.SHA256, b.SHA256):
		return "sha256"
	case a.Transport != b.Transport:
		return "transport"
	case a.ABI != b.ABI:
		return "abi"
	case a.DSNForm != b.DSNForm:
		return "dsn_form"
	case a.Sandbox.Interpreter != b.Sandbox.Interpreter:
		return "interpreter"
	case a.Sandbox.MemoryLimit != b.Sandbox.MemoryLimit:
		return "sandbox.memory_limit"
	case a.Sandbox.DiskQuota != b.Sandbox.DiskQuota:
		return "sandbox.disk_quota"
	case a.Sandbox.CallTimeout != b.Sandbox.CallTimeout:
		return "sandbox.call_timeout"
	case a.Sandbox.Trusted != b.Sandbox.Trusted:
		return "sandbox.trusted"
	case !slices.Equal(a.Sandbox.Env, b.Sandbox.Env):
		return "sandbox.env"
	case !slices.Equal(a.Sandbox.Read, b.Sandbox.Read):
		return "sandbox.read"
	case !slices.Equal(a.Sandbox.Write, b.Sandbox.Write):
		return "sandbox.write"
	case !slices.Equal(a.Sandbox.Connect, b.Sandbox.Connect):
		return "sandbox.connect"
	case a.Sandbox.RequireContainment != b.Sandbox.RequireContainment:
		return "sandbox.require_containment"
	case a.Sandbox.MaxMemory != b.Sandbox.MaxMemory, a.Sandbox.MaxOpenFiles != b.Sandbox.MaxOpenFiles,
		a.Sandbox.MaxProcesses != b.Sandbox.MaxProcesses, a.Sandbox.MaxCPUTime != b.Sandbox.MaxCPUTime,
		a.Sandbox.MaxScanEntries != b.Sandbox.MaxScanEntries, a.Sandbox.MaxScanBytes != b.Sandbox.MaxScanBytes,
		a.Sandbox.ScanTimeout != b.Sandbox.ScanTimeout:
		return "sandbox's limits"
	case !sameJSON(a.Options, b.Options):
		return "options"
	}
	return ""
}

// sameJSON compares two JSON values ignoring insignificant white space.
func sameJSON(a, b json.RawMessage) bool {
	var ca, cb bytes.Buffer
	if len(a) > 0 && json.Compact(&ca, a) != nil || len(b) > 0 && json.Compact(&cb, b) != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}
