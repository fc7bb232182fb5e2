//go:build wasip1

package main

import "github.com/dockyard/dockyard/pdk/wasmguest"

func init() { wasmguest.Serve(open) }

// main is empty: the module is a reactor, whose work is done by pdk/wasmguest's exports.
func main() {}
