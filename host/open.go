package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

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
// errors. This is what dockyard conform <artifact> uses; nothing is registered.
func OpenArtifact(ctx context.Context, path, dsn string, opts ...Option) (store.Store, error) {
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
	cfg := resolve(opts)
	name := strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs))
	m := &Manifest{Name: name, Artifact: abs, ABI: fmt.Sprintf("%d.%d", abi.Major, abi.Minor)}
	isWasm, err := hasWasmMagic(abs)
	if err != nil {
		return nil, fmt.Errorf("host: artifact: %w", err)
	}
	switch {
	case isWasm:
		m.Transport = TransportWasm
		code, err := os.ReadFile(abs)
		if err != nil {
			return nil, fmt.Errorf("host: artifact: %w", err)
		}
		sum := sha256.Sum256(code)
		m.SHA256 = hex.EncodeToString(sum[:])
		s, err := openWasm(ctx, m, code, dsn, cfg)
		if err != nil {
			return nil, fmt.Errorf("host: open wasm artifact %s: %w", path, err)
		}
		return s, nil
	case isExecutable(fi):
		m.Transport = TransportPlugin
		sum, err := hashFile(abs)
		if err != nil {
			return nil, fmt.Errorf("host: artifact: %w", err)
		}
		m.SHA256 = hex.EncodeToString(sum)
		s, err := openPlugin(ctx, m, abs, sum, dsn, cfg.logger)
		if err != nil {
			return nil, fmt.Errorf("host: open plugin artifact %s: %w", path, err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("%w: %s is neither a WebAssembly module (it does not start with \\0asm) nor an executable file", ErrUnknownArtifact, path)
}

// readVerified reads a wasm artifact whole and checks its sha256 against m's: the bytes
// returned are the bytes verified.
func readVerified(m *Manifest, artifact string) (code, sum []byte, err error) {
	code, err = os.ReadFile(artifact)
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

// hashFile returns the sha256 of the file at path.
func hashFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
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
