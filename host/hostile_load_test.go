//go:build unix

package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/regfile"
)

// loadWithin runs LoadDir on dir and fails the test if it does not return within a bound.
func loadWithin(t *testing.T, dir string) ([]Loaded, error) {
	t.Helper()
	type result struct {
		loaded []Loaded
		err    error
	}
	done := make(chan result, 1)
	go func() {
		loaded, err := LoadDir(context.Background(), dir, quiet)
		done <- result{loaded, err}
	}()
	select {
	case r := <-done:
		return r.loaded, r.err
	case <-time.After(time.Minute):
		t.Fatal("LoadDir did not return within a minute")
		return nil, nil
	}
}

// TestLoadDirFIFO: a FIFO named like a manifest, and a manifest whose artifact is a FIFO, are
// refused at once (an open of a FIFO waits for a writer, for ever), and the good driver beside
// them loads.
func TestLoadDirFIFO(t *testing.T) {
	good := uniqueName("good")
	dir := driverDir(t, good)
	fifo := filepath.Join(dir, "trap.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.wasm"), 0o644); err != nil {
		t.Fatal(err)
	}
	pipeManifest := filepath.Join(dir, "pipe.json")
	writeFile(t, pipeManifest, []byte(goodFields(uniqueName("pipe"), "pipe.wasm", sha256Hex(nil)).String()), 0o644)

	loaded, err := loadWithin(t, dir)
	if len(loaded) != 1 || loaded[0].Name != good {
		t.Errorf("loaded %+v, want %s only", loaded, good)
	}
	assertManifestErrFor(t, err, fifo, "", "not a regular file")
	assertManifestErrFor(t, err, pipeManifest, "artifact", "not a regular file")
}

// TestLoadDirHugeArtifact: a 3 GiB (sparse) artifact is refused from its size, before it is
// read, with an error naming the limit.
func TestLoadDirHugeArtifact(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.wasm")
	writeFile(t, big, []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	if err := os.Truncate(big, 3<<30); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "big.json")
	writeFile(t, path, []byte(goodFields(uniqueName("big"), "big.wasm", sha256Hex(nil)).String()), 0o644)
	_, err := loadWithin(t, dir)
	assertManifestErrFor(t, err, path, "artifact", "over the limit of 268435456")
	if err == nil || !errors.Is(err, regfile.ErrTooLarge) {
		t.Errorf("err = %v, want regfile.ErrTooLarge", err)
	}
}

// assertManifestErrFor is assertManifestErr for one manifest among the errors LoadDir joined.
func assertManifestErrFor(t *testing.T, err error, path, field, substr string) {
	t.Helper()
	var found *ManifestError
	var walk func(error)
	walk = func(e error) {
		var me *ManifestError
		if errors.As(e, &me) && me.Path == path && found == nil {
			found = me
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
		}
	}
	if err != nil {
		walk(err)
	}
	switch {
	case found == nil:
		t.Fatalf("err = %v, want a ManifestError for %s", err, path)
	case found.Field != field:
		t.Errorf("the error for %s names field %q, want %q: %v", path, found.Field, field, found)
	case !strings.Contains(found.Error(), substr):
		t.Errorf("the error for %s = %v, want it to say %q", path, found, substr)
	}
}
