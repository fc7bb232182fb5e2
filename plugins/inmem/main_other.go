//go:build !wasip1

package main

import (
	"fmt"
	"os"
)

// main explains that this program is a WebAssembly module, not a native command.
func main() {
	fmt.Fprintln(os.Stderr, "inmem: this is a WebAssembly driver module; build it with "+
		"GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared (see `make wasm`)")
	os.Exit(2)
}
