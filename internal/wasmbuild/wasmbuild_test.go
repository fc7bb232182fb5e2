package wasmbuild

import (
	"bytes"
	"os"
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
