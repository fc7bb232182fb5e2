//go:build wasip1

package main

import (
	"github.com/dockyard/dockyard/drivers/postgres"
	"github.com/dockyard/dockyard/pdk/wasmguest"
	"github.com/dockyard/dockyard/pdk/wasmnet"
)

// netOptions: a module has no network of its own; the host resolves the server's name and
// dials it, if its sandbox lists it (sandbox.connect).
var netOptions = []postgres.Option{
	postgres.WithDialFunc(wasmnet.Dial),
	postgres.WithLookupFunc(wasmnet.LookupHost),
}

func init() { wasmguest.Serve(open) }

// main is empty: the module is a reactor, whose work is done by pdk/wasmguest's exports.
func main() {}
