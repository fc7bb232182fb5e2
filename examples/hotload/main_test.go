package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/artifactbuild"
)

// syncBuffer is an io.Writer the test reads while run writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits until out contains want. Compiling a Go guest the first time takes tens of
// seconds under the race detector (wazero's disk cache makes later runs fast), hence the
// generous limit.
func waitFor(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the output after 3 minutes:\n%s", want, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// writeAtomic writes a file the way a deployment should: under a hidden temporary name that
// LoadDir ignores, then renamed into place, so a poll never sees half a file.
func writeAtomic(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestHotload starts the program on an empty directory and drops a driver into it while it
// runs: the manifest first (so a poll finds it without its artifact, and reports that), then
// the artifact. The program must pick the driver up, run its workload through store.Open, and
// end cleanly when its context is cancelled.
func TestHotload(t *testing.T) {
	wasmPath, err := artifactbuild.Build("../../plugins/inmem")
	if err != nil {
		t.Fatalf("build plugins/inmem: %v", err)
	}
	code, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, out, config{dir: dir, every: 50 * time.Millisecond, data: t.TempDir(),
			logger: slog.New(slog.DiscardHandler)})
	}()
	waitFor(t, out, "watching "+dir)

	manifest := fmt.Sprintf(`{
  "name": "hotload-kv",
  "transport": "wasm",
  "artifact": "kv.wasm",
  "sha256": "%x",
  "abi": "1.0",
  "sandbox": {"memory_limit": "128MiB", "call_timeout": "10s"}
}
`, sha256.Sum256(code))
	writeAtomic(t, filepath.Join(dir, "kv.json"), []byte(manifest))
	waitFor(t, out, `kv.json: field "artifact"`)
	writeAtomic(t, filepath.Join(dir, "kv.wasm"), code)
	waitFor(t, out, "picked up driver hotload-kv: wasm transport, artifact kv.wasm")
	waitFor(t, out, "driver hotload-kv: wrote 100 keys, scanned 100, key-042 = value-042")
	waitFor(t, out, "the directory's problems are gone")

	// It goes on polling: the unchanged manifest is not picked up again.
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run = %v, want nil after cancel", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("run did not return after cancel:\n%s", out)
	}
	got := out.String()
	t.Logf("output:\n%s", got)
	if n := strings.Count(got, "picked up driver hotload-kv"); n != 1 {
		t.Errorf("picked up %d times, want once", n)
	}
	if strings.Count(got, "not loaded") != 1 {
		t.Errorf("the missing artifact was reported more than once:\n%s", got)
	}
	if !strings.HasSuffix(got, "stopped\n") {
		t.Errorf("output does not end with \"stopped\":\n%s", got)
	}
}

func TestRunBadInterval(t *testing.T) {
	if err := run(context.Background(), &syncBuffer{}, config{dir: t.TempDir()}); err == nil {
		t.Error("run with no interval: no error")
	}
}
