package artifactbuild

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestBuildIsCached(t *testing.T) {
	path, err := Build("../../plugins/inmem")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(b, []byte("\x00asm")) {
		t.Fatalf("%s is not a wasm module: %v", path, err)
	}
	start := time.Now()
	again, err := Build("../../plugins/inmem")
	if err != nil || again != path {
		t.Fatalf("second Build = %q, %v; want %q", again, err, path)
	}
	t.Logf("cached Build took %v", time.Since(start))
}

func TestBuildError(t *testing.T) {
	if _, err := Build("../../store"); err == nil {
		t.Fatal("building a non-main package as a plugin succeeded")
	}
}

func TestBuildPlugin(t *testing.T) {
	path, err := BuildPlugin("../../plugins/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(path).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !bytes.Contains(out, []byte("This binary is a plugin")) {
		t.Fatalf("%s started by hand: %v\n%s\nwant exit 1 and go-plugin's notice", path, err, out)
	}
	wasm, err := Build("../../plugins/inmem")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(wasm) == filepath.Dir(path) {
		t.Errorf("the plugin and wasm builds share a cache entry: %s", path)
	}
}
