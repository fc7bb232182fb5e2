package host

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dockyard/dockyard/host/artifact"
	"github.com/dockyard/dockyard/internal/regfile"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
)

// The transports a manifest may name.
const (
	TransportWasm   = artifact.Wasm
	TransportPlugin = artifact.Plugin
)

// Sandbox holds a manifest's limits: see artifact.Sandbox.
type Sandbox = artifact.Sandbox

// MaxManifestSize is the largest manifest file read. A manifest is a few hundred bytes; a
// larger file in a drivers directory is refused rather than read whole.
const MaxManifestSize = 1 << 20

// MaxMemoryLimit is the largest sandbox.memory_limit: a 32-bit WebAssembly memory.
const MaxMemoryLimit = 4 * GiB

// Manifest describes one driver artifact: see docs/manifest.md for the format and every rule.
type Manifest struct {
	// Name is the name the driver is registered under in package store.
	Name string `json:"name"`
	// Transport is TransportWasm or TransportPlugin.
	Transport string `json:"transport"`
	// Artifact is the artifact's path: relative to the manifest's directory, or absolute.
	Artifact string `json:"artifact"`
	// SHA256 is the artifact's sha256, 64 lower-case hex digits.
	SHA256 string `json:"sha256"`
	// ABI is the version of the Dockyard ABI the artifact speaks, "MAJOR.MINOR".
	ABI string `json:"abi"`
	// DSNForm is what a DSN of the driver names, as the manifest declares it ("dsn_form"), or
	// "" when it declares none: tools then take the DSN for a directory, the transports'
	// default. A wasm driver's DSN is a directory, a server's (handed to the driver unchanged,
	// nothing mounted), or empty, never a file. LoadDir declares it (pdk.DeclareDSN) with the
	// driver's name.
	DSNForm pdk.DSNForm `json:"dsn_form,omitempty"`
	// Sandbox limits the driver.
	Sandbox Sandbox `json:"sandbox"`
	// Options is a JSON object handed to the driver in the ABI handshake, or nil.
	Options json.RawMessage `json:"options,omitempty"`

	// Path is the manifest file ("" for a Manifest built in code: a relative Artifact is then
	// relative to the current directory).
	Path string `json:"-"`

	// bare is the path given to Inspect, for a bare artifact's manifest; "" otherwise.
	bare string
}

// The range of a manifest's call_timeout. Below the minimum, an honest call (a plugin's round
// trip, a wasm instance's start on a loaded machine) would fail for no fault of the driver; past
// the maximum, a deadline no longer bounds anything an application waits for.
const (
	MinCallTimeout = 10 * time.Millisecond
	MaxCallTimeout = time.Hour
)

// UnmarshalJSON decodes a manifest with every check ReadManifest makes on its content (not
// those on the artifact file). Its errors are *ManifestError without a Path.
func (m *Manifest) UnmarshalJSON(data []byte) error {
	got, err := parseManifest("", data)
	if err != nil {
		return err
	}
	*m = *got
	return nil
}

// ReadManifest reads and validates the manifest at path: every field (see docs/manifest.md),
// the ABI major, and that the artifact exists and is a regular file (a WebAssembly module for
// the wasm transport, an executable for the plugin transport). It neither hashes the artifact
// nor registers anything. Every error is a *ManifestError naming path and, where one is at
// fault, the field.
func ReadManifest(path string) (*Manifest, error) {
	data, err := regfile.ReadFile(path, MaxManifestSize)
	if errors.Is(err, regfile.ErrTooLarge) {
		return nil, &ManifestError{Path: path, Err: fmt.Errorf("file is larger than %d bytes: not a driver manifest", MaxManifestSize)}
	}
	if err != nil {
		return nil, &ManifestError{Path: path, Err: err}
	}
	m, err := parseManifest(path, data)
	if err != nil {
		return nil, err
	}
	if err := m.checkArtifact(); err != nil {
		return nil, err
	}
	return m, nil
}

// ArtifactPath is the artifact's absolute path: Artifact itself if absolute, otherwise
// Artifact (slash-separated or in the OS's form) under the manifest's directory.
func (m *Manifest) ArtifactPath() string {
	p := m.Artifact
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(m.Path), filepath.FromSlash(p))
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return filepath.Clean(p)
}

// checkArtifact verifies the artifact is a regular file of the transport's kind.
func (m *Manifest) checkArtifact() error {
	p := m.ArtifactPath()
	fi, err := os.Stat(p)
	if err != nil {
		return &ManifestError{Path: m.Path, Field: "artifact", Err: fmt.Errorf("artifact %q: %w", m.Artifact, err)}
	}
	if !fi.Mode().IsRegular() {
		return fieldErr(m.Path, "artifact", "artifact %q (%s) is not a regular file (mode %v)", m.Artifact, p, fi.Mode())
	}
	kind, err := artifact.Kind(p)
	if err != nil {
		return &ManifestError{Path: m.Path, Field: "artifact", Err: fmt.Errorf("artifact %q: %w", m.Artifact, err)}
	}
	switch {
	case m.Transport == TransportWasm && kind != artifact.Wasm:
		return fieldErr(m.Path, "artifact", "artifact %q (%s) is not a WebAssembly module (it does not start with \\0asm)", m.Artifact, p)
	case m.Transport == TransportPlugin && m.Sandbox.Interpreter != "":
		return m.checkInterpreter() // the artifact is the interpreter's input, not a program
	case m.Transport == TransportPlugin && !artifact.IsExecutable(fi):
		return fieldErr(m.Path, "artifact", "artifact %q (%s) is not executable: a plugin artifact is a program (chmod +x)", m.Artifact, p)
	}
	return nil
}

// checkInterpreter verifies the interpreter is an executable regular file. It is not pinned
// (docs/manifest.md says why): only the artifact's sha256 is.
func (m *Manifest) checkInterpreter() error {
	p := m.Sandbox.Interpreter
	fi, err := os.Stat(p)
	if err != nil {
		return &ManifestError{Path: m.Path, Field: "interpreter", Err: fmt.Errorf("interpreter: %w", err)}
	}
	if !fi.Mode().IsRegular() {
		return fieldErr(m.Path, "interpreter", "%q is not a regular file (mode %v)", p, fi.Mode())
	}
	if !artifact.IsExecutable(fi) {
		return fieldErr(m.Path, "interpreter", "%q is not executable (mode %v)", p, fi.Mode())
	}
	return nil
}

// MarshalJSON writes the manifest in its file format: as the struct's fields say, with the
// interpreter, which Manifest keeps in Sandbox.Interpreter, as the top-level member it is.
func (m Manifest) MarshalJSON() ([]byte, error) {
	type fields Manifest // without this method
	return json.Marshal(struct {
		fields
		Interpreter string `json:"interpreter,omitempty"`
	}{fields(m), m.Sandbox.Interpreter})
}

// nameRE is what a driver name may be: it is typed on command lines and used in DRIVER:DSN
// pairs, so no colons, spaces or slashes.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// validate checks the values of a manifest's fields (not the artifact file). Errors are
// *ManifestError naming m.Path.
func (m *Manifest) validate() error {
	path := m.Path
	switch {
	case m.bare != "": // named after its file, whatever the file is called
	case m.Name == "":
		return fieldErr(path, "name", "must not be empty")
	case !nameRE.MatchString(m.Name):
		return fieldErr(path, "name", "%q is not a driver name: want 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", m.Name)
	}
	if m.Transport != TransportWasm && m.Transport != TransportPlugin {
		return fieldErr(path, "transport", "unknown transport %q (want %q or %q)", m.Transport, TransportWasm, TransportPlugin)
	}
	if m.Artifact == "" {
		return fieldErr(path, "artifact", "must not be empty")
	}
	if strings.ContainsRune(m.Artifact, 0) {
		return fieldErr(path, "artifact", "contains a NUL byte")
	}
	if err := checkSHA256(m.SHA256); err != nil {
		return &ManifestError{Path: path, Field: "sha256", Err: err}
	}
	if _, _, err := parseABI(m.ABI); err != nil {
		return &ManifestError{Path: path, Field: "abi", Err: err}
	}
	if err := checkDSNForm(m.Transport, m.DSNForm); err != nil {
		return &ManifestError{Path: path, Field: "dsn_form", Err: err}
	}
	sb := m.Sandbox
	switch {
	case sb.Interpreter != "" && m.Transport != TransportPlugin:
		return fieldErr(path, "interpreter", "applies to the plugin transport only, not %q", m.Transport)
	case sb.Interpreter != "" && (!filepath.IsAbs(sb.Interpreter) || strings.ContainsRune(sb.Interpreter, 0)):
		return fieldErr(path, "interpreter", "%q is not an absolute path: the interpreter is named exactly, never looked up in PATH or relative to the manifest", sb.Interpreter)
	case m.Transport == TransportPlugin && sb.MemoryLimit != 0:
		return fieldErr(path, "sandbox.memory_limit", "applies to the wasm transport only, not %q", m.Transport)
	case m.Transport == TransportPlugin && sb.Trusted:
		return fieldErr(path, "sandbox.trusted", "applies to the wasm transport only, not %q", m.Transport)
	case m.Transport == TransportWasm && sb.MaxOpenFiles > 1<<16:
		return fieldErr(path, "sandbox.max_open_files", "%d is over the wasm transport's largest, 65536", sb.MaxOpenFiles)
	case sb.MemoryLimit > MaxMemoryLimit:
		return fieldErr(path, "sandbox.memory_limit", "%s is over the largest WebAssembly memory, %s", sb.MemoryLimit, MaxMemoryLimit)
	case sb.CallTimeout < 0:
		return fieldErr(path, "sandbox.call_timeout", "%v: must be positive", sb.CallTimeout)
	case sb.Trusted && sb.CallTimeout != 0:
		return fieldErr(path, "sandbox.call_timeout", "has no effect with \"trusted\": true (a trusted module runs without a deadline); remove one of them")
	}
	if len(m.Options) > 0 {
		if !json.Valid(m.Options) {
			return fieldErr(path, "options", "is not valid JSON")
		}
		if t := strings.TrimLeft(string(m.Options), " \t\r\n"); t == "" || t[0] != '{' {
			return fieldErr(path, "options", "must be a JSON object, not %s", describeJSON([]byte(t)))
		}
	}
	return nil
}

// checkSHA256 checks s is 64 lower- or upper-case hex digits.
func checkSHA256(s string) error {
	if len(s) != 64 {
		return fmt.Errorf("want 64 hex digits (as sha256sum prints), got %d characters", len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return fmt.Errorf("%q is not hex: byte %d is %q", s, i, c)
		}
	}
	return nil
}

var abiRE = regexp.MustCompile(`^([0-9]{1,5})\.([0-9]{1,5})$`)

// parseABI parses "MAJOR.MINOR" and refuses a major other than abi.Major. Minors are
// compatible both ways (see package pdk/abi).
func parseABI(s string) (major, minor uint16, err error) {
	m := abiRE.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, fmt.Errorf("%q is not an ABI version: want \"MAJOR.MINOR\", e.g. \"%d.%d\"", s, abi.Major, abi.Minor)
	}
	ma, err1 := strconv.ParseUint(m[1], 10, 16)
	mi, err2 := strconv.ParseUint(m[2], 10, 16)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("%q: version numbers must be below 65536", s)
	}
	if ma != abi.Major {
		return 0, 0, because(abi.ErrIncompatible, "the artifact speaks ABI %s, this host speaks ABI %d.%d (majors must match)",
			s, abi.Major, abi.Minor)
	}
	return uint16(ma), uint16(mi), nil
}
