package host

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	_ "github.com/dockyard/dockyard/host/pluginhost" // the transports the tests run
	_ "github.com/dockyard/dockyard/host/wasmhost"
	"github.com/dockyard/dockyard/internal/artifactbuild"
)

// quiet is a logger for the tests: drivers' output and load messages are not the subject.
var quiet = WithLogger(slog.New(slog.DiscardHandler))

// inmem is plugins/inmem built to wasm, once per test binary.
var inmem struct {
	once sync.Once
	code []byte
	err  error
}

// inmemWasm returns plugins/inmem as wasm and its sha256 in hex.
func inmemWasm(t testing.TB) ([]byte, string) {
	t.Helper()
	inmem.once.Do(func() {
		var path string
		if path, inmem.err = artifactbuild.Build("../plugins/inmem"); inmem.err == nil {
			inmem.code, inmem.err = os.ReadFile(path)
		}
	})
	if inmem.err != nil {
		t.Fatalf("build plugins/inmem: %v", inmem.err)
	}
	return inmem.code, sha256Hex(inmem.code)
}

// emptyModule is the smallest WebAssembly module: the magic and version, no sections. It passes
// every check ReadManifest makes and fails compilation (it exports nothing).
var emptyModule = []byte("\x00asm\x01\x00\x00\x00")

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

var nameSeq atomic.Int64

// uniqueName returns a driver name no other test uses: the registry is global to the process.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, nameSeq.Add(1))
}

func writeFile(t testing.TB, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
}

// kv is one member of a manifest being written, its value raw JSON.
type kv struct{ k, v string }

// fields is a manifest's members, in order.
type fields []kv

// goodFields is a valid wasm manifest of driver name for an artifact with sum.
func goodFields(name, artifact, sum string) fields {
	return fields{
		{"name", q(name)},
		{"transport", q("wasm")},
		{"artifact", q(artifact)},
		{"sha256", q(sum)},
		{"abi", q("1.0")},
	}
}

// set replaces the member k, or appends it.
func (f fields) set(k, v string) fields {
	out := append(fields(nil), f...)
	for i := range out {
		if out[i].k == k {
			out[i].v = v
			return out
		}
	}
	return append(out, kv{k, v})
}

// del removes the member k.
func (f fields) del(k string) fields {
	var out fields
	for _, m := range f {
		if m.k != k {
			out = append(out, m)
		}
	}
	return out
}

func (f fields) String() string {
	parts := make([]string, len(f))
	for i, m := range f {
		parts[i] = fmt.Sprintf("  %q: %s", m.k, m.v)
	}
	return "{\n" + strings.Join(parts, ",\n") + "\n}\n"
}

// q quotes s as a JSON string.
func q(s string) string { return fmt.Sprintf("%q", s) }

// driverDir makes a drivers directory holding plugins/inmem as inmem.wasm and, for each name, a
// manifest <name>.json of that name.
func driverDir(t testing.TB, names ...string) string {
	t.Helper()
	code, sum := inmemWasm(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "inmem.wasm"), code, 0o644)
	for _, name := range names {
		writeFile(t, filepath.Join(dir, name+".json"), []byte(goodFields(name, "inmem.wasm", sum).String()), 0o644)
	}
	return dir
}
