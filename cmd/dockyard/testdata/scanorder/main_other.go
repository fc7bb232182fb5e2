//go:build !wasip1

package main

import (
	"fmt"
	"os"
)

// main explains that this program is a WebAssembly module, not a native command.
func main() {
	fmt.Fprintln(os.Stderr, "scanorder: this is a WebAssembly driver module (a test fixture); build it with "+
		"GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared")
	os.Exit(2)
}
