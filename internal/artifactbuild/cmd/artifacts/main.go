// Command artifacts builds the driver artifacts of `make wasm`, `make plugins` and `make cwasm`
// into a bin directory, through package artifactbuild: the one home of the artifacts' build
// flags, which the tests build with too. Run from the module's root:
//
//	go run ./internal/artifactbuild/cmd/artifacts -o bin wasm:inmem plugin:sqlite c:cinmem
//
// wasm:NAME is plugins/NAME built for wasip1 (bin/wasm/NAME.wasm), plugin:NAME the same package
// built for this machine (bin/plugins/NAME), c:NAME the C sources of plugins/NAME with the C
// driver kit pdk/c (bin/wasm/NAME.wasm). Builds are cached as the tests' are.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dockyard/dockyard/internal/artifactbuild"
)

func main() {
	out := flag.String("o", "bin", "the bin directory")
	flag.Parse()
	for _, spec := range flag.Args() {
		if err := build(*out, spec); err != nil {
			fmt.Fprintf(os.Stderr, "artifacts: %s: %v\n", spec, err)
			os.Exit(1)
		}
	}
}

// cRuntime is the C driver kit's runtime and its wasm binding.
var cRuntime = []string{"pdk/c/dockyard.c", "pdk/c/frame.c", "pdk/c/request.c", "pdk/c/wasm.c"}

func build(bin, spec string) error {
	kind, name, ok := strings.Cut(spec, ":")
	if !ok || name == "" || strings.ContainsAny(name, `/\`) {
		return fmt.Errorf("want wasm:NAME, plugin:NAME or c:NAME")
	}
	pkg := filepath.Join("plugins", name)
	var (
		built, dst string
		err        error
	)
	switch kind {
	case "wasm":
		built, err = artifactbuild.Build(pkg)
		dst = filepath.Join(bin, "wasm", name+".wasm")
	case "plugin":
		built, err = artifactbuild.BuildPlugin(pkg)
		dst = filepath.Join(bin, "plugins", name)
	case "c":
		srcs, gerr := filepath.Glob(filepath.Join(pkg, "*.[ch]"))
		if gerr != nil || len(srcs) == 0 {
			return fmt.Errorf("no C sources in %s", pkg)
		}
		flags := append(append([]string{}, artifactbuild.CFlags...), "-Ipdk/c")
		built, err = artifactbuild.BuildC(append(srcs, cRuntime...), flags)
		dst = filepath.Join(bin, "wasm", name+".wasm")
	default:
		return fmt.Errorf("unknown kind %q: want wasm, plugin or c", kind)
	}
	if err != nil {
		return err
	}
	if err := copyFile(built, dst); err != nil {
		return err
	}
	fmt.Println(dst)
	return nil
}

// copyFile copies src to dst, executable, by a rename into place.
func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}
