// Package artifactbuild builds a plugin's main package to a WebAssembly module (Build), or to a
// native go-plugin binary (BuildPlugin), for tests, so that tests never depend on `make wasm`
// or `make plugins` having run.
//
// Build runs `go build -buildmode=c-shared` with GOOS=wasip1 GOARCH=wasm and caches the result
// under os.UserCacheDir()/dockyard/wasm-test (or the system temp directory), keyed by a hash of
// the Go toolchain version, the package's directory, go.mod, go.sum and the Go source files of
// every package the plugin imports (as `go list -deps` finds them for wasip1). Repeated test binaries, and test packages running in parallel,
// build each module once: the build runs under an flock of the cache entry and lands by an
// atomic rename. BuildPlugin does the same for a plain `go build` for the host's platform,
// with cgo off, as the Makefile builds plugins.
package artifactbuild

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// target is what a build makes: the environment of go build and go list, go build's extra
// arguments, the output's file extension.
type target struct {
	name string
	env  []string
	args []string
	ext  string
}

var (
	wasmTarget   = target{name: "wasm", env: []string{"GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0"}, args: []string{"-buildmode=c-shared"}, ext: ".wasm"}
	pluginTarget = target{name: "plugin", env: []string{"CGO_ENABLED=0"}}
)

// Build builds the main package in pkgDir (a directory inside this module, relative to the
// current directory or absolute) and returns the path of the .wasm file.
func Build(pkgDir string) (string, error) { return build(pkgDir, wasmTarget) }

// BuildPlugin builds the main package in pkgDir as a native executable (a go-plugin binary)
// and returns its path.
func BuildPlugin(pkgDir string) (string, error) { return build(pkgDir, pluginTarget) }

func build(pkgDir string, tg target) (string, error) {
	abs, err := filepath.Abs(pkgDir)
	if err != nil {
		return "", err
	}
	modRoot, err := moduleRoot(abs)
	if err != nil {
		return "", err
	}
	relPkg, err := filepath.Rel(modRoot, abs)
	if err != nil {
		return "", err
	}
	key, err := sourceHash(modRoot, relPkg, tg)
	if err != nil {
		return "", fmt.Errorf("artifactbuild: hash sources: %w", err)
	}
	cache, err := cacheDir()
	if err != nil {
		return "", err
	}
	out := filepath.Join(cache, key[:32], filepath.Base(abs)+tg.ext)
	err = cached(out, func(tmp string) error {
		args := append(append([]string{"build"}, tg.args...), "-trimpath", "-o", tmp, "./"+filepath.ToSlash(relPkg))
		cmd := exec.Command(goCommand(), args...)
		cmd.Dir = modRoot
		cmd.Env = append(append(os.Environ(), tg.env...), "GOFLAGS="+buildFlags())
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stderr, &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("artifactbuild: %s go %s: %w\n%s", strings.Join(tg.env, " "), strings.Join(args, " "), err, stderr.Bytes())
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return out, nil
}

// moduleRoot returns the nearest directory at or above dir holding a go.mod.
func moduleRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("artifactbuild: no go.mod at or above %s", dir)
		}
	}
}

// sourceHash hashes the toolchain, the build flags, the package path, go.mod and go.sum, and
// the Go files of every package the plugin imports (for wasip1): by content inside the module,
// by path (which holds the module version) outside it.
func sourceHash(root, relPkg string, tg target) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s/%s\x00", runtime.Version(), tg.name, filepath.ToSlash(relPkg), buildFlags(), runtime.GOOS, runtime.GOARCH)
	cmd := exec.Command(goCommand(), "list", "-deps", "-f",
		`{{if not .Standard}}{{$dir := .Dir}}{{range .GoFiles}}{{$dir}}/{{.}}{{"\n"}}{{end}}{{range .EmbedFiles}}{{$dir}}/{{.}}{{"\n"}}{{end}}{{end}}`,
		"./"+filepath.ToSlash(relPkg))
	cmd.Dir = root
	cmd.Env = append(append(os.Environ(), tg.env...), "GOFLAGS="+buildFlags())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list: %w\n%s", err, stderr.Bytes())
	}
	files := append(strings.Fields(string(out)), filepath.Join(root, "go.mod"), filepath.Join(root, "go.sum"))
	slices.Sort(files)
	for _, f := range files {
		rel, err := filepath.Rel(root, f)
		if err != nil || strings.HasPrefix(rel, "..") {
			fmt.Fprintf(h, "%s\x00", f) // outside the module: the path names the version
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(rel), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// buildFlags is GOFLAGS without flags a wasm build cannot take, nor a plugin binary needs (-race, -msan, -asan, -cover).
func buildFlags() string {
	var keep []string
	for _, f := range strings.Fields(os.Getenv("GOFLAGS")) {
		switch strings.SplitN(f, "=", 2)[0] {
		case "-race", "-msan", "-asan", "-cover", "-covermode", "-coverpkg":
			continue
		}
		keep = append(keep, f)
	}
	return strings.Join(keep, " ")
}

func cacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "dockyard", "wasm-test")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("artifactbuild: cache directory: %w", err)
	}
	return dir, nil
}

// goCommand is the go command: go test puts its toolchain's bin directory first in PATH.
func goCommand() string { return "go" }

// cached makes the cache entry out with build, unless it is there: under an flock of the
// entry's directory (so concurrent builds of one entry run once), build writes a temporary
// file, which lands at out by an atomic rename.
func cached(out string, build func(tmp string) error) error {
	if _, err := os.Stat(out); err == nil {
		return nil
	}
	dir := filepath.Dir(out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("artifactbuild: %w", err)
	}
	unlock, err := lock(filepath.Join(dir, ".lock"))
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(out); err == nil { // built by another process while we waited
		return nil
	}
	tmp := fmt.Sprintf("%s.tmp%d", out, os.Getpid())
	if err := build(tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("artifactbuild: %w", err)
	}
	return nil
}
