//go:build wasip1

package main

import "github.com/dockyard/dockyard/pdk/wasm"

func init() { wasm.Serve(open) }

// main is empty: the module is a reactor, whose work is done by pdk/wasm's exports.
func main() {}
