// Command inmem is the in-memory driver as a driver artifact, shipped in either form. Built
// for wasip1 it is a WebAssembly module served through pdk/wasmguest, loaded with
// host/wasmhost (`make wasm`):
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/wasm/inmem.wasm ./plugins/inmem
//
// Built for the host's platform it is a go-plugin binary served through pdk/pluginguest, loaded with
// host/pluginhost (`make plugins`):
//
//	go build -o bin/plugins/inmem ./plugins/inmem
//
// The plugin serves drivers/inmem itself. The WebAssembly module serves the same store
// (same name, capabilities and semantics) in a structure built for a guest whose calls run one
// at a time, internal/serial: B-trees written in place, with an undo log, instead of
// drivers/inmem's copy-on-write tree, whose copies are the collector's work in a guest's only
// thread. docs/pdk-go.md ("What makes a Go guest fast") has the figures.
//
// The DSN is ignored: every session starts with an empty store, and everything is gone when
// the instance or process is (the driver is not durable).
package main

import (
	"context"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
)

// open opens a new, empty in-memory driver (newDriver, of the form built) for each session,
// read-only sessions too: such a store creates nothing anywhere (the dispatcher refuses a
// read-only session's writes).
func open(context.Context, abi.Hello) (pdk.Driver, error) {
	return newDriver(), nil
}
