package pdktest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/host/wasmhost"
	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/storetest"
)

// discard is the transports' default logger here: see the package documentation.
var discard = slog.New(slog.DiscardHandler)

// Wasm builds the main package pkg for wasip1 and compiles the module, closed when t ends: the
// driver's wasm form. Its Open is a store on a fresh instance; a non-empty DSN is a host
// directory the guest sees as /data. opts come after the package's own default, a discarding
// logger.
func Wasm(t testing.TB, pkg string, opts ...wasmhost.Option) *wasmhost.Module {
	t.Helper()
	path := build(t, pkg, artifactbuild.Build)
	m, err := wasmhost.CompileFile(context.Background(), path, append([]wasmhost.Option{wasmhost.WithLogger(discard)}, opts...)...)
	if err != nil {
		t.Fatalf("pdktest: compile %s: %v", pkg, err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	return m
}

// WasmHarness is the harness of pkg's wasm form (see Wasm), with the capabilities the driver
// declares: each store a fresh instance with a fresh data directory mounted at /data, its
// Reopen (for a durable driver) a fresh instance on the same directory, so that durability is
// proved across instances and not only across Close.
func WasmHarness(t testing.TB, pkg string, caps storetest.Capabilities, opts ...wasmhost.Option) storetest.Harness {
	t.Helper()
	return storetest.ByDSN(caps, freshDir, Wasm(t, pkg, opts...).Open)
}

// freshDir is the DSN of the transports' default form: a directory of the case's own.
func freshDir(t storetest.T) string { return t.TempDir() }

// build builds pkg with how (artifactbuild's Build or BuildPlugin) and returns the artifact's
// path, or fails t.
func build(t testing.TB, pkg string, how func(dir string) (string, error)) string {
	t.Helper()
	dir, err := packageDir(pkg)
	if err != nil {
		t.Fatalf("pdktest: %v", err)
	}
	path, err := how(dir)
	if err != nil {
		t.Fatalf("pdktest: build %s: %v", pkg, err)
	}
	return path
}

// packageDir returns the directory of pkg: pkg itself if it is one (absolute, or relative
// starting with . as the go command wants), else the directory `go list` finds for the import
// path, which artifactbuild needs as it builds inside the package's module.
func packageDir(pkg string) (string, error) {
	if filepath.IsAbs(pkg) || pkg == "." || pkg == ".." || strings.HasPrefix(pkg, "./") || strings.HasPrefix(pkg, "../") {
		return pkg, nil
	}
	var stderr bytes.Buffer
	cmd := exec.Command("go", "list", "-f", "{{.Dir}}", pkg)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list %s: %w: %s", pkg, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}
