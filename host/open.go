package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dockyard/dockyard/host/artifact"
	"github.com/dockyard/dockyard/internal/regfile"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/store"
)

// This file is the one path from an artifact to a store: a manifest (read from a file, built in
// code, or made by Inspect for a bare artifact) is validated, its artifact verified against its
// sha256, and handed to the transport registered for it (package host/artifact); the drivers
// the transport opens become stores under pdk.NewStore with the manifest's scan bounds. Open,
// Prepare, OpenArtifact, PrepareArtifact and LoadDir all take it.

// Open verifies the artifact's sha256 against the manifest and opens one store on it, with the
// manifest's sandbox and options, without registering anything: the way to check or use one
// artifact (dockyard conform <manifest>). m is validated first, so a Manifest built in code
// gets the same checks as one read by ReadManifest. A wasm module is compiled for this store
// alone and closed with it. An invalid manifest, a missing artifact or a checksum mismatch is
// a *ManifestError; a transport this program does not link is ErrTransportNotLinked; a
// transport's failure (a module that does not compile, a plugin that does not start) is
// wrapped with the driver's name and the manifest's path.
func (m *Manifest) Open(ctx context.Context, dsn string, opts ...Option) (store.Store, error) {
	t, a, err := m.verified(resolve(opts))
	if err != nil {
		return nil, err
	}
	d, err := t.Open(ctx, a, dsn)
	if err != nil {
		return nil, m.openErr(err)
	}
	return pdk.NewStore(d, storeOptions(ctx, m)...), nil
}

// OpenReadOnly is Open for a store that must exist, opened without creating or changing
// anything (see store.OpenReadOnly): the guest opens its driver read-only (HELLO_READONLY),
// the transport creates no data directory, Update fails with store.ErrReadOnly, and a missing
// store is store.ErrNoStore. A driver built before ABI 1.2 cannot: store.ErrReadOnlyUnsupported.
func (m *Manifest) OpenReadOnly(ctx context.Context, dsn string, opts ...Option) (store.Store, error) {
	return m.Open(artifact.WithReadOnly(ctx), dsn, opts...)
}

// Prepared is a driver artifact made ready to open many stores on: its sha256 verified and,
// for a WebAssembly module, compiled, once. (Manifest.Open and OpenArtifact do both for every
// store.) Stores opened on it must be closed before it is.
type Prepared struct {
	// Manifest describes the artifact (for a bare artifact, the manifest it would have).
	Manifest *Manifest

	p artifact.Prepared
}

// Open opens a store on the prepared artifact, nothing registered.
func (p *Prepared) Open(ctx context.Context, dsn string) (store.Store, error) {
	d, err := p.p.Open(ctx, dsn)
	if err != nil {
		return nil, p.Manifest.openErr(err)
	}
	return pdk.NewStore(d, storeOptions(ctx, p.Manifest)...), nil
}

// OpenReadOnly opens a store on the prepared artifact read-only, as Manifest.OpenReadOnly does.
func (p *Prepared) OpenReadOnly(ctx context.Context, dsn string) (store.Store, error) {
	return p.Open(artifact.WithReadOnly(ctx), dsn)
}

// Close releases the compiled module, if any.
func (p *Prepared) Close() { p.p.Close() }

// Prepare is Manifest.Open for many stores: it validates m, verifies the artifact's sha256 and
// compiles a wasm module once; every store opened on the result shares the module (a plugin
// binary's sum is checked again by go-plugin at each start). Errors are Open's.
func (m *Manifest) Prepare(ctx context.Context, opts ...Option) (*Prepared, error) {
	t, a, err := m.verified(resolve(opts))
	if err != nil {
		return nil, err
	}
	p, err := t.Prepare(ctx, a)
	if err != nil {
		return nil, m.openErr(err)
	}
	return &Prepared{Manifest: m, p: p}, nil
}

// OpenArtifact opens one store on a bare artifact, with no manifest and default sandbox
// settings: Inspect tells its transport, and the manifest it makes is opened as Manifest.Open
// does, pinned to the sha256 computed there (so the artifact cannot change between the two).
// Nothing is registered. PrepareArtifact does the same for many stores.
func OpenArtifact(ctx context.Context, path, dsn string, opts ...Option) (store.Store, error) {
	m, err := Inspect(path)
	if err != nil {
		return nil, err
	}
	return m.Open(ctx, dsn, opts...)
}

// PrepareArtifact is OpenArtifact for many stores, as Prepare is Manifest.Open.
func PrepareArtifact(ctx context.Context, path string, opts ...Option) (*Prepared, error) {
	m, err := Inspect(path)
	if err != nil {
		return nil, err
	}
	return m.Prepare(ctx, opts...)
}

// Inspect describes a bare artifact by the manifest it would have: the transport its content
// shows (a file starting with the WebAssembly magic "\0asm" is a wasm module, an executable
// file a plugin), its absolute path, its sha256, this host's ABI version, and a name taken from
// the file's, without its extension. Anything else is an error wrapping ErrUnknownArtifact.
// Inspect needs no transport: opening the result does.
func Inspect(path string) (*Manifest, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("host: artifact %s: %w", path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("host: artifact: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file (mode %v)", ErrUnknownArtifact, path, fi.Mode())
	}
	kind, err := artifact.Kind(abs)
	if err != nil {
		return nil, fmt.Errorf("host: artifact: %w", err)
	}
	if kind == "" {
		return nil, fmt.Errorf("%w: %s is neither a WebAssembly module (it does not start with \\0asm) nor an executable file", ErrUnknownArtifact, path)
	}
	m := &Manifest{Name: strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs)), Transport: kind, Artifact: abs,
		ABI: fmt.Sprintf("%d.%d", abi.Major, abi.Minor), bare: path}
	sum, err := regfile.SHA256(abs, artifact.MaxSize)
	if err != nil {
		return nil, fmt.Errorf("host: artifact: %w", err)
	}
	m.SHA256 = hex.EncodeToString(sum)
	return m, nil
}

// verified validates m, checks its artifact and the transport, and returns what the transport
// is given: the artifact with its sum verified (and, for a transport that runs bytes, the very
// bytes that were hashed, never read again).
func (m *Manifest) verified(cfg config) (artifact.Transport, *artifact.Artifact, error) {
	if err := m.validate(); err != nil {
		return nil, nil, err
	}
	if err := m.checkArtifact(); err != nil {
		return nil, nil, err
	}
	t, err := m.transport()
	if err != nil {
		return nil, nil, err
	}
	a := &artifact.Artifact{Name: m.Name, Path: m.ArtifactPath(), Sandbox: m.Sandbox, Options: m.Options,
		DSNForm: m.DSNForm, Logger: cfg.logger, CacheDir: cfg.cacheDir}
	if t.ReadsCode() {
		a.Code, err = regfile.ReadFile(a.Path, t.MaxSize())
		sum := sha256.Sum256(a.Code)
		a.SHA256 = sum[:]
	} else {
		a.SHA256, err = regfile.SHA256(a.Path, t.MaxSize())
	}
	if err != nil {
		return nil, nil, &ManifestError{Path: m.Path, Field: "artifact", Err: fmt.Errorf("artifact %q: %w", m.Artifact, err)}
	}
	if err := verifySum(m, a.SHA256); err != nil {
		return nil, nil, err
	}
	return t, a, nil
}

// transportPackages are the packages of the transports this module ships, for the hint of
// ErrTransportNotLinked.
var transportPackages = map[string]string{
	TransportWasm:   "github.com/dockyard/dockyard/host/wasmhost",
	TransportPlugin: "github.com/dockyard/dockyard/host/pluginhost",
}

// transport returns the registered transport of m's.
func (m *Manifest) transport() (artifact.Transport, error) {
	t, ok := artifact.Lookup(m.Transport)
	if !ok {
		return nil, because(ErrTransportNotLinked, "host: driver %q needs the %s transport, which this program does not link (import _ %q)",
			m.Name, m.Transport, transportPackages[m.Transport])
	}
	return t, nil
}

// openErr wraps an error of a transport's open with the driver and manifest it was for.
func (m *Manifest) openErr(err error) error {
	switch {
	case m.bare != "":
		return fmt.Errorf("host: open %s artifact %s: %w", m.Transport, m.bare, err)
	case m.Path == "":
		return fmt.Errorf("host: open driver %q: %w", m.Name, err)
	}
	return fmt.Errorf("host: open driver %q (manifest %s): %w", m.Name, m.Path, err)
}

// storeOptions are the adapter's options a manifest sets, the bounds of a scan, and read-only
// for a read-only open (artifact.ReadOnly).
func storeOptions(ctx context.Context, m *Manifest) []pdk.Option {
	sb := m.Sandbox
	opts := []pdk.Option{pdk.WithMaxScanEntries(int(sb.MaxScanEntries)), pdk.WithMaxScanBytes(int(sb.MaxScanBytes)),
		pdk.WithScanTimeout(sb.ScanTimeout)} // zero: the default
	if artifact.ReadOnly(ctx) {
		opts = append(opts, pdk.WithReadOnly())
	}
	return opts
}

// verifySum refuses a sum other than the one m pins, showing both.
func verifySum(m *Manifest, sum []byte) error {
	want, err := hex.DecodeString(m.SHA256)
	if err != nil { // validate checked it already
		return &ManifestError{Path: m.Path, Field: "sha256", Err: err}
	}
	if !bytes.Equal(want, sum) {
		return &ManifestError{Path: m.Path, Field: "sha256", Err: because(ErrChecksumMismatch,
			"artifact %q has sha256 %x, the manifest expects %s", m.Artifact, sum, strings.ToLower(m.SHA256))}
	}
	return nil
}

// reasonError is a message that wraps a sentinel without repeating the sentinel's text.
type reasonError struct {
	msg string
	is  error
}

func (e *reasonError) Error() string { return e.msg }
func (e *reasonError) Unwrap() error { return e.is }

// because makes an error with the formatted message that matches sentinel with errors.Is.
func because(sentinel error, format string, args ...any) error {
	return &reasonError{msg: fmt.Sprintf(format, args...), is: sentinel}
}
