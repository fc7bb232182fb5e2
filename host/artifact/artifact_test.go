package artifact_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/host"
	"github.com/dockyard/dockyard/host/artifact"
	_ "github.com/dockyard/dockyard/host/wasmhost" // this test binary links the wasm transport alone
)

// TestOnlyImportedTransportsLink: an application importing store, a driver, host and the wasm
// transport links neither gRPC nor go-plugin, which only the plugin transport needs.
func TestOnlyImportedTransportsLink(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./testdata/wasmonly").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list listed %d packages: %q", len(deps), deps)
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "google.golang.org/grpc") || strings.HasPrefix(p, "github.com/hashicorp/go-plugin") ||
			p == "github.com/dockyard/dockyard/host/pluginhost" {
			t.Errorf("a wasm-only application links %s", p)
		}
	}
	bin := filepath.Join(t.TempDir(), "wasmonly")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/wasmonly").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if fi, err := os.Stat(bin); err == nil {
		t.Logf("a wasm-only application is %.1f MB", float64(fi.Size())/1e6)
	}
}

// TestTransportNotLinked: a plugin artifact in a program without the plugin transport is a
// clear error naming the package to import, not a panic or a silent fallback.
func TestTransportNotLinked(t *testing.T) {
	if got := artifact.Transports(); len(got) != 1 || got[0] != artifact.Wasm {
		t.Fatalf("Transports() = %q, want only %q", got, artifact.Wasm)
	}
	exe := filepath.Join(t.TempDir(), "kv")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	m, err := host.Inspect(exe)
	if err != nil || m.Transport != artifact.Plugin {
		t.Fatalf("Inspect(an executable) = %+v, %v; want a plugin artifact", m, err)
	}
	_, err = m.Open(context.Background(), "")
	if !errors.Is(err, host.ErrTransportNotLinked) || !strings.Contains(err.Error(), "host/pluginhost") {
		t.Fatalf("Open without the plugin transport: %v, want ErrTransportNotLinked naming host/pluginhost", err)
	}
	// Prepare says it the same way, once: not wrapped again as a transport's failure to open.
	if _, perr := m.Prepare(context.Background()); !errors.Is(perr, host.ErrTransportNotLinked) || perr.Error() != err.Error() {
		t.Fatalf("Prepare without the plugin transport: %v, want Open's error, %v", perr, err)
	}
}

// TestKind tells artifacts by their content.
func TestKind(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, content string
		mode          os.FileMode
		want          string
	}{
		{"m.wasm", "\x00asm\x01\x00\x00\x00", 0o644, artifact.Wasm},
		{"tool", "#!/bin/sh\n", 0o755, artifact.Plugin},
		{"notes.txt", "hello", 0o644, ""},
		{"empty", "", 0o644, ""},
		{"as", "\x00as", 0o644, ""},
	} {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, []byte(c.content), c.mode); err != nil {
			t.Fatal(err)
		}
		if got, err := artifact.Kind(p); err != nil || got != c.want {
			t.Errorf("Kind(%s) = %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	if _, err := artifact.Kind(dir); err == nil {
		t.Errorf("Kind(a directory) did not fail")
	}
}
