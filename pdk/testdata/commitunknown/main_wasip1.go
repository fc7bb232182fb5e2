//go:build wasip1

package main

import "github.com/dockyard/dockyard/pdk/wasm"

func init() { wasm.Serve(open) }

func main() {}
