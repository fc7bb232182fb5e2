package artifactbuild

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// ErrNoClang is wrapped by CheckC's error when clang cannot build a WebAssembly reactor for
// wasm32-wasi: clang, wasm-ld, the wasi-libc sysroot or the wasm32 compiler-rt builtins are
// missing (on Debian: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32).
var ErrNoClang = errors.New("artifactbuild: clang cannot build wasm32-wasi reactors")

// CReactorFlags are the flags BuildC always passes to clang: a WASI preview-1 reactor (which
// exports _initialize; wasm-ld exports the memory). The C sources export dockyard_buffer and
// dockyard_call themselves (pdk/c/wasm.c).
var CReactorFlags = []string{"--target=wasm32-wasi", "-mexec-model=reactor"}

// CFlags are the compiler flags of a C driver module besides CReactorFlags and its -I flags:
// the one list that `make cwasm` (through cmd/artifacts) and the C kit's tests build with.
// -flto lets the linker inline across files: the runtime's calls into the driver's callbacks
// and the driver's into its own helpers, which makes a crossing about twice as fast in wasm.
var CFlags = []string{
	"-O2", "-flto", "-std=c11", "-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wstrict-prototypes",
	"-Wmissing-prototypes",
}

// Clang is the clang command: $CLANG, or clang on the PATH.
func Clang() string {
	if c := os.Getenv("CLANG"); c != "" {
		return c
	}
	return "clang"
}

// checkC holds CheckC's verdict, reached once per process.
var checkC = new(cCheck)

type cCheck struct {
	once sync.Once
	err  error
}

// CheckC reports whether clang can build a wasm32-wasi reactor that uses libc, by building a
// small one once per process. Its error wraps ErrNoClang and says what failed.
func CheckC() error {
	checkC := checkC
	checkC.once.Do(func() {
		dir, err := os.MkdirTemp("", "artifactbuild-probe")
		if err != nil {
			checkC.err = fmt.Errorf("%w: %v", ErrNoClang, err)
			return
		}
		defer os.RemoveAll(dir)
		src := filepath.Join(dir, "probe.c")
		const probe = "#include <stdlib.h>\n#include <string.h>\n" +
			"__attribute__((export_name(\"probe\"))) int probe(int n) { char *p = malloc((size_t)n); " +
			"if (!p) return -1; memset(p, 1, (size_t)n); int s = p[n - 1]; free(p); return s; }\n"
		if err := os.WriteFile(src, []byte(probe), 0o644); err != nil {
			checkC.err = fmt.Errorf("%w: %v", ErrNoClang, err)
			return
		}
		args := append(slices.Clone(CReactorFlags), "-O2", "-o", filepath.Join(dir, "probe.wasm"), src)
		if out, err := exec.Command(Clang(), args...).CombinedOutput(); err != nil {
			checkC.err = fmt.Errorf("%w: %s %s: %v\n%s", ErrNoClang, Clang(), strings.Join(args, " "), err, firstLines(out, 5))
		}
	})
	return checkC.err
}

// BuildC compiles and links C sources to a WebAssembly reactor with clang (CReactorFlags, then
// flags) and returns the path of the .wasm file, named after the first source. srcs may list
// headers too: files ending in .h are hashed but not passed to clang.
//
// Like Build, the result is cached under the user's cache directory, keyed by a hash of clang's
// version, the flags, and the names and contents of the sources and of every header in their
// directories and in the directories of -I flags; concurrent builds of one entry run once.
func BuildC(srcs, flags []string) (string, error) {
	if len(srcs) == 0 {
		return "", errors.New("artifactbuild: BuildC with no sources")
	}
	if err := CheckC(); err != nil {
		return "", err
	}
	var cfiles []string
	for _, s := range srcs {
		if !strings.HasSuffix(s, ".h") {
			cfiles = append(cfiles, s)
		}
	}
	key, err := cHash(srcs, flags)
	if err != nil {
		return "", fmt.Errorf("artifactbuild: hash C sources: %w", err)
	}
	cache, err := cacheDir()
	if err != nil {
		return "", err
	}
	out := filepath.Join(cache, "c-"+key[:32], strings.TrimSuffix(filepath.Base(srcs[0]), filepath.Ext(srcs[0]))+".wasm")
	err = cached(out, func(tmp string) error {
		args := append(append(slices.Clone(CReactorFlags), flags...), "-o", tmp)
		args = append(args, cfiles...)
		var stderr bytes.Buffer
		cmd := exec.Command(Clang(), args...)
		cmd.Stdout, cmd.Stderr = &stderr, &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("artifactbuild: %s %s: %w\n%s", Clang(), strings.Join(args, " "), err, stderr.Bytes())
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return out, nil
}

// cHash hashes clang's version, the flags, and the sources and headers BuildC depends on.
func cHash(srcs, flags []string) (string, error) {
	version, err := exec.Command(Clang(), "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", Clang(), err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%q\x00%q\x00", version, CReactorFlags, flags)
	files := map[string]bool{}
	dirs := map[string]bool{}
	for _, s := range srcs {
		abs, err := filepath.Abs(s)
		if err != nil {
			return "", err
		}
		files[abs] = true
		dirs[filepath.Dir(abs)] = true
	}
	for i, f := range flags {
		switch {
		case f == "-I" && i+1 < len(flags):
			dirs[flags[i+1]] = true
		case strings.HasPrefix(f, "-I") && len(f) > 2:
			dirs[f[2:]] = true
		}
	}
	for d := range dirs {
		headers, err := filepath.Glob(filepath.Join(d, "*.h"))
		if err != nil {
			return "", err
		}
		for _, hdr := range headers {
			abs, err := filepath.Abs(hdr)
			if err != nil {
				return "", err
			}
			files[abs] = true
		}
	}
	sorted := make([]string, 0, len(files))
	for f := range files {
		sorted = append(sorted, f)
	}
	slices.Sort(sorted)
	for _, f := range sorted {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func firstLines(b []byte, n int) string {
	lines := strings.SplitN(strings.TrimSpace(string(b)), "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}
