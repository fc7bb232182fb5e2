//go:build wasip1

package main

import (
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/wasmguest"
	"github.com/dockyard/dockyard/plugins/inmem/internal/serial"
)

// newDriver is the structure for a guest whose calls run one at a time (internal/serial).
func newDriver() pdk.Driver { return serial.New() }

func init() { wasmguest.Serve(open) }

// main is empty: the module is a reactor, whose work is done by pdk/wasmguest's exports.
func main() {}
