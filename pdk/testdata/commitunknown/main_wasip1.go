//go:build wasip1

package main

import "github.com/dockyard/dockyard/pdk/wasmguest"

func init() { wasmguest.Serve(open) }

func main() {}
