package host

import (
	"errors"
	"fmt"
)

// Sentinel errors of this package. Match them with errors.Is. Besides these, a manifest whose
// name is taken matches store.ErrDuplicateDriver, and one whose ABI major differs from this
// host's matches abi.ErrIncompatible.
var (
	// ErrBadManifest is wrapped by every *ManifestError: a manifest, or the artifact it names,
	// was refused. Nothing was registered for that manifest.
	ErrBadManifest = errors.New("host: bad driver manifest")

	// ErrChecksumMismatch is wrapped when an artifact's sha256 is not the one its manifest
	// pins. The error shows both sums.
	ErrChecksumMismatch = errors.New("host: artifact sha256 mismatch")

	// ErrUnknownArtifact is returned by OpenArtifact for a file that is neither a WebAssembly
	// module nor an executable.
	ErrUnknownArtifact = errors.New("host: not a driver artifact")

	// ErrTransportNotLinked is returned for an artifact whose transport this program does not
	// link: a transport is linked by importing its package (host/wasmhost, host/pluginhost),
	// which registers it.
	ErrTransportNotLinked = errors.New("host: transport not linked")
)

// ManifestError reports a manifest that was refused. Its message names the manifest file and,
// when one field is at fault, that field (nested fields are dotted, e.g. "sandbox.call_timeout"):
//
//	drivers/kv.json: field "sha256": artifact kv.wasm has sha256 9f86d0…, the manifest pins 2c26b4…
//
// It wraps ErrBadManifest and Err.
type ManifestError struct {
	// Path is the manifest file as the caller named it ("" for a Manifest built in code).
	Path string
	// Field is the JSON field at fault, or "" when the problem is the file as a whole
	// (unreadable, not JSON).
	Field string
	// Err says what is wrong.
	Err error
}

func (e *ManifestError) Error() string {
	path := e.Path
	if path == "" {
		path = "driver manifest"
	}
	if e.Field == "" {
		return fmt.Sprintf("%s: %v", path, e.Err)
	}
	return fmt.Sprintf("%s: field %q: %v", path, e.Field, e.Err)
}

// Unwrap returns ErrBadManifest and Err, so that errors.Is matches both the package sentinel
// and whatever Err wraps (fs.ErrNotExist, ErrChecksumMismatch, store.ErrDuplicateDriver...).
func (e *ManifestError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrBadManifest}
	}
	return []error{ErrBadManifest, e.Err}
}

// fieldErr makes a *ManifestError for field of the manifest at path.
func fieldErr(path, field string, format string, args ...any) *ManifestError {
	return &ManifestError{Path: path, Field: field, Err: fmt.Errorf(format, args...)}
}
