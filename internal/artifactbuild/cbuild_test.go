package artifactbuild

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/testenv"
)

func requireC(t *testing.T) {
	t.Helper()
	if err := CheckC(); err != nil {
		testenv.Unavailable(t, "clang for wasm32-wasi", err.Error())
	}
}

// TestBuildCIsCached builds a small reactor twice (the second time from the cache), then again
// after a header it includes changed, which must rebuild.
func TestBuildCIsCached(t *testing.T) {
	requireC(t)
	dir := t.TempDir()
	src, hdr := filepath.Join(dir, "tiny.c"), filepath.Join(dir, "tiny.h")
	os.WriteFile(hdr, []byte("#define ANSWER 42\n"), 0o644)
	os.WriteFile(src, []byte("#include \"tiny.h\"\n__attribute__((export_name(\"answer\"))) int answer(void) { return ANSWER; }\n"), 0o644)
	flags := []string{"-O2", "-Wall", "-Werror"}
	path, err := BuildC([]string{src}, flags)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(b, []byte("\x00asm")) || filepath.Base(path) != "tiny.wasm" {
		t.Fatalf("%s is not tiny.wasm, a wasm module: %v", path, err)
	}
	if again, err := BuildC([]string{src}, flags); err != nil || again != path {
		t.Fatalf("second BuildC = %q, %v; want %q", again, err, path)
	}
	os.WriteFile(hdr, []byte("#define ANSWER 43\n"), 0o644)
	if changed, err := BuildC([]string{src}, flags); err != nil || changed == path {
		t.Fatalf("BuildC after the header changed = %q, %v; want a new build", changed, err)
	}
	if other, err := BuildC([]string{src}, append(flags, "-DOTHER")); err != nil || other == path {
		t.Fatalf("BuildC with other flags = %q, %v; want a new build", other, err)
	}
}

func TestBuildCError(t *testing.T) {
	requireC(t)
	src := filepath.Join(t.TempDir(), "broken.c")
	os.WriteFile(src, []byte("int broken(void) { return undeclared; }\n"), 0o644)
	_, err := BuildC([]string{src}, nil)
	if err == nil || !strings.Contains(err.Error(), "undeclared") {
		t.Fatalf("BuildC of a broken source: %v; want clang's error", err)
	}
}

// TestCheckCWithoutClang: a missing clang is reported as ErrNoClang, which is what tests turn
// into testenv.Unavailable.
func TestCheckCWithoutClang(t *testing.T) {
	t.Setenv("CLANG", filepath.Join(t.TempDir(), "no-such-clang"))
	saved := checkC
	checkC = new(cCheck)
	defer func() { checkC = saved }()
	if err := CheckC(); !errors.Is(err, ErrNoClang) {
		t.Fatalf("CheckC without clang: %v; want ErrNoClang", err)
	}
}
