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

	"github.com/dockyard/dockyard/host/pluginhost"
	"github.com/dockyard/dockyard/host/wasmhost"
	"github.com/dockyard/dockyard/internal/regfile"
	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/store"
)

// Open verifies the artifact's sha256 against the manifest and opens one store on it, with the
// manifest's sandbox and options, without registering anything: the way to check or use one
// artifact (dockyard conform <manifest>). m is validated first, so a Manifest built in code
// gets the same checks as one read by ReadManifest. A wasm module is compiled for this store
// alone and closed with it. An invalid manifest, a missing artifact or a checksum mismatch is
// a *ManifestError; a transport's failure (a module that does not compile, a plugin that does
// not start) is wrapped with the driver's name and the manifest's path.
func (m *Manifest) Open(ctx context.Context, dsn string, opts ...Option) (store.Store, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	if err := m.checkArtifact(); err != nil {
		return nil, err
	}
	cfg := resolve(opts)
	artifact := m.ArtifactPath()
	var s store.Store
	switch m.Transport {
	case TransportWasm:
		code, _, err := readVerified(m, artifact)
		if err != nil {
			return nil, err
		}
		if s, err = openWasm(ctx, m, code, dsn, cfg); err != nil {
			return nil, m.openErr(err)
		}
	case TransportPlugin:
		sum, err := hashVerified(m, artifact)
		if err != nil {
			return nil, err
		}
		if s, err = openPlugin(ctx, m, artifact, sum, dsn, cfg.logger); err != nil {
			return nil, m.openErr(err)
		}
	}
	return s, nil
}

// openErr wraps an error of a transport's open with the driver and manifest it was for.
func (m *Manifest) openErr(err error) error {
	if m.Path == "" {
		return fmt.Errorf("host: open driver %q: %w", m.Name, err)
	}
	return fmt.Errorf("host: open driver %q (manifest %s): %w", m.Name, m.Path, err)
}

// OpenArtifact opens one store on a bare artifact, with no manifest and default sandbox
// settings: a file starting with the WebAssembly magic "\0asm" is run by the wasm transport,
// an executable file by the plugin transport, pinned to the sha256 computed here (so the binary
// cannot change between this call and its start). Anything else is an error wrapping
// ErrUnknownArtifact. The driver is named after the file, without its extension, in logs and
// errors. Nothing is registered. PrepareArtifact does the same for many stores.
func OpenArtifact(ctx context.Context, path, dsn string, opts ...Option) (store.Store, error) {
	m, code, sum, err := inspectArtifact(path)
	if err != nil {
		return nil, err
	}
	cfg := resolve(opts)
	if m.Transport == TransportWasm {
		s, err := openWasm(ctx, m, code, dsn, cfg)
		if err != nil {
			return nil, fmt.Errorf("host: open wasm artifact %s: %w", path, err)
		}
		return s, nil
	}
	s, err := openPlugin(ctx, m, m.Artifact, sum, dsn, cfg.logger)
	if err != nil {
		return nil, fmt.Errorf("host: open plugin artifact %s: %w", path, err)
	}
	return s, nil
}

// inspectArtifact tells a bare artifact's transport by its content and returns the manifest it
// would have (named after the file, its absolute path, its sha256), the module's bytes for
// wasm, and the sha256.
func inspectArtifact(path string) (m *Manifest, code, sum []byte, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("host: artifact %s: %w", path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("host: artifact: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, nil, fmt.Errorf("%w: %s is not a regular file (mode %v)", ErrUnknownArtifact, path, fi.Mode())
	}
	name := strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs))
	m = &Manifest{Name: name, Artifact: abs, ABI: fmt.Sprintf("%d.%d", abi.Major, abi.Minor)}
	isWasm, err := hasWasmMagic(abs)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("host: artifact: %w", err)
	}
	switch {
	case isWasm:
		m.Transport = TransportWasm
		if code, err = regfile.ReadFile(abs, wasmhost.MaxModuleSize); err != nil {
			return nil, nil, nil, fmt.Errorf("host: artifact: %w", err)
		}
		s := sha256.Sum256(code)
		sum = s[:]
	case isExecutable(fi):
		m.Transport = TransportPlugin
		if sum, err = hashFile(abs); err != nil {
			return nil, nil, nil, fmt.Errorf("host: artifact: %w", err)
		}
	default:
		return nil, nil, nil, fmt.Errorf("%w: %s is neither a WebAssembly module (it does not start with \\0asm) nor an executable file", ErrUnknownArtifact, path)
	}
	m.SHA256 = hex.EncodeToString(sum)
	return m, code, sum, nil
}

// Prepared is a driver artifact made ready to open many stores on: its sha256 verified and,
// for a WebAssembly module, compiled, once. (Manifest.Open and OpenArtifact do both for every
// store.) Stores opened on it must be closed before it is.
type Prepared struct {
	// Manifest describes the artifact (for a bare artifact, the manifest it would have).
	Manifest *Manifest

	open    store.Factory
	release func()
}

// Open opens a store on the prepared artifact, nothing registered.
func (p *Prepared) Open(ctx context.Context, dsn string) (store.Store, error) {
	return p.open(ctx, dsn)
}

// Close releases the compiled module, if any.
func (p *Prepared) Close() {
	if p.release != nil {
		p.release()
	}
}

// Prepare is Manifest.Open for many stores: it validates m, verifies the artifact's sha256 and
// compiles a wasm module once; every store opened on the result shares the module (a plugin
// binary's sum is checked again by go-plugin at each start). Errors are Open's.
func (m *Manifest) Prepare(ctx context.Context, opts ...Option) (*Prepared, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	if err := m.checkArtifact(); err != nil {
		return nil, err
	}
	artifact := m.ArtifactPath()
	if m.Transport == TransportWasm {
		code, _, err := readVerified(m, artifact)
		if err != nil {
			return nil, err
		}
		return prepareWasm(ctx, m, code, resolve(opts), m.openErr)
	}
	sum, err := hashVerified(m, artifact)
	if err != nil {
		return nil, err
	}
	return preparePlugin(m, artifact, sum, resolve(opts), m.openErr), nil
}

// PrepareArtifact is OpenArtifact for many stores, as Prepare is Manifest.Open.
func PrepareArtifact(ctx context.Context, path string, opts ...Option) (*Prepared, error) {
	m, code, sum, err := inspectArtifact(path)
	if err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("host: open %s artifact %s: %w", m.Transport, path, err) }
	if m.Transport == TransportWasm {
		return prepareWasm(ctx, m, code, resolve(opts), wrap)
	}
	return preparePlugin(m, m.Artifact, sum, resolve(opts), wrap), nil
}

func prepareWasm(ctx context.Context, m *Manifest, code []byte, cfg config, wrap func(error) error) (*Prepared, error) {
	factory, release, err := loadWasm(ctx, m, code, cfg)
	if err != nil {
		return nil, wrap(err)
	}
	open := func(ctx context.Context, dsn string) (store.Store, error) {
		s, err := factory(ctx, dsn)
		if err != nil {
			return nil, wrap(err)
		}
		return s, nil
	}
	return &Prepared{Manifest: m, open: open, release: release}, nil
}

func preparePlugin(m *Manifest, artifact string, sum []byte, cfg config, wrap func(error) error) *Prepared {
	open := func(ctx context.Context, dsn string) (store.Store, error) {
		s, err := openPlugin(ctx, m, artifact, sum, dsn, cfg.logger)
		if err != nil {
			return nil, wrap(err)
		}
		return s, nil
	}
	return &Prepared{Manifest: m, open: open}
}

// readVerified reads a wasm artifact whole and checks its sha256 against m's: the bytes
// returned are the bytes verified.
func readVerified(m *Manifest, artifact string) (code, sum []byte, err error) {
	code, err = regfile.ReadFile(artifact, wasmhost.MaxModuleSize)
	if err != nil {
		return nil, nil, &ManifestError{Path: m.Path, Field: "artifact", Err: fmt.Errorf("artifact %q: %w", m.Artifact, err)}
	}
	s := sha256.Sum256(code)
	if err := verifySum(m, s[:]); err != nil {
		return nil, nil, err
	}
	return code, s[:], nil
}

// hashVerified hashes a plugin artifact and checks the sum against m's. The plugin transport
// checks it again when it starts the binary.
func hashVerified(m *Manifest, artifact string) ([]byte, error) {
	sum, err := hashFile(artifact)
	if err != nil {
		return nil, &ManifestError{Path: m.Path, Field: "artifact", Err: fmt.Errorf("artifact %q: %w", m.Artifact, err)}
	}
	if err := verifySum(m, sum); err != nil {
		return nil, err
	}
	return sum, nil
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

// hashFile returns the sha256 of the plugin binary at path.
func hashFile(path string) ([]byte, error) { return regfile.SHA256(path, pluginhost.MaxBinarySize) }

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
