// Package artifact is the contract between package host and the transports that run driver
// artifacts: what a transport is given (an Artifact: verified bytes or path, sha256, sandbox,
// options) and what it gives back (drivers of package pdk), the registry through which a
// transport makes itself known, and the one inspector that tells an artifact's kind from its
// content.
//
// It plays the part database/sql/driver plays for database/sql: package host reads manifests,
// verifies checksums and registers stores, and never imports a transport; a transport
// (host/wasmhost, host/pluginhost) registers itself here when it is imported. So an
// application links only the transports it imports: one that loads only wasm drivers does not
// link gRPC and go-plugin.
//
//	import (
//		"github.com/dockyard/dockyard/host"
//		_ "github.com/dockyard/dockyard/host/wasmhost" // wasm drivers
//	)
package artifact

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/dockyard/dockyard/internal/regfile"
	"github.com/dockyard/dockyard/pdk"
)

// The kinds of artifact, which are also the names of the transports that run them and the
// values of a manifest's "transport".
const (
	// Wasm is a WebAssembly module (it starts with "\0asm"), run by host/wasmhost.
	Wasm = "wasm"
	// Plugin is an executable, run as a go-plugin process by host/pluginhost.
	Plugin = "plugin"
)

// MaxSize bounds the artifact files Kind's callers hash before a transport is chosen: no
// transport accepts a larger one (each has its own, smaller or equal, Transport.MaxSize).
const MaxSize = 1 << 30

// Transport runs the artifacts of one kind. Every method must be safe for concurrent use.
type Transport interface {
	// Name is the kind of artifact the transport runs: Wasm or Plugin.
	Name() string
	// MaxSize is the largest artifact, in bytes, the transport accepts.
	MaxSize() int64
	// ReadsCode reports whether the transport runs the artifact from its bytes (Artifact.Code,
	// the very bytes that were verified) rather than from its file (Artifact.Path, which the
	// transport must then check against Artifact.SHA256 itself, on what it runs).
	ReadsCode() bool
	// Open opens one driver on the artifact; whatever the transport prepared for it (a
	// compiled module) is released when the driver is closed.
	Open(ctx context.Context, a *Artifact, dsn string) (pdk.Driver, error)
	// Prepare makes the artifact ready to open many drivers on (a wasm module compiled once).
	Prepare(ctx context.Context, a *Artifact) (Prepared, error)
}

// Prepared is an artifact made ready by its transport.
type Prepared interface {
	// Open opens a driver on the artifact.
	Open(ctx context.Context, dsn string) (pdk.Driver, error)
	// Close releases what Prepare made. Drivers opened on it must be closed first.
	Close() error
}

// Artifact is what a transport is given: a driver artifact whose sha256 package host checked
// against its manifest, with the manifest's settings.
type Artifact struct {
	// Name is the driver's name, for logs and errors.
	Name string
	// Path is the artifact's absolute path.
	Path string
	// Code is the artifact's content, verified, when the transport ReadsCode; nil otherwise.
	Code []byte
	// SHA256 is the artifact's sha256, as the manifest pins it.
	SHA256 []byte
	// Sandbox holds the manifest's limits; zero fields are the transport's defaults.
	Sandbox Sandbox
	// Options is the JSON object handed to the driver in the ABI handshake, or nil.
	Options json.RawMessage
	// DSNForm is the manifest's dsn_form, "" when it declares none. For the wasm transport,
	// pdk.DSNServer means the DSN is handed to the driver unchanged, nothing mounted.
	DSNForm pdk.DSNForm
	// Logger receives the transport's and the driver's log records; never nil.
	Logger *slog.Logger
	// CacheDir is the wasm transport's compilation cache directory; nil: its default.
	CacheDir *string
}

var (
	mu         sync.RWMutex
	transports = map[string]Transport{}
)

// Register makes a transport available to package host. A transport calls it from an init
// function; registering one name twice panics, as store.Register does.
func Register(t Transport) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := transports[t.Name()]; dup {
		panic(fmt.Sprintf("artifact: transport %q registered twice", t.Name()))
	}
	transports[t.Name()] = t
}

// Lookup returns the transport registered under name.
func Lookup(name string) (Transport, bool) {
	mu.RLock()
	defer mu.RUnlock()
	t, ok := transports[name]
	return t, ok
}

// Transports returns the names of the registered transports, sorted.
func Transports() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(transports))
	for n := range transports {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// magic starts every WebAssembly binary module.
const magic = "\x00asm"

// Kind tells the kind of the artifact file at path from its content: Wasm for a file that
// starts with the WebAssembly magic, Plugin for an executable file, "" for anything else. A
// path that is not a regular file is an error.
func Kind(path string) (kind string, err error) {
	f, _, err := regfile.Open(path, -1)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	var head [len(magic)]byte
	n, err := io.ReadFull(f, head[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return "", err
	}
	switch {
	case n == len(magic) && string(head[:]) == magic:
		return Wasm, nil
	case IsExecutable(fi):
		return Plugin, nil
	}
	return "", nil
}

// IsExecutable reports whether fi is a file the OS would run: an execute bit on Unix, the .exe
// extension on Windows.
func IsExecutable(fi fs.FileInfo) bool {
	if runtime.GOOS == "windows" {
		return strings.EqualFold(filepath.Ext(fi.Name()), ".exe")
	}
	return fi.Mode().Perm()&0o111 != 0
}
