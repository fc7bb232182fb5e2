// Command inmem is the in-memory driver (drivers/inmem) as a driver artifact: the very same
// driver code, shipped in either form. Built for wasip1 it is a WebAssembly module served
// through pdk/wasmguest, loaded with host/wasmhost (`make wasm`):
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/wasm/inmem.wasm ./plugins/inmem
//
// Built for the host's platform it is a go-plugin binary served through pdk/pluginguest, loaded with
// host/pluginhost (`make plugins`):
//
//	go build -o bin/plugins/inmem ./plugins/inmem
//
// The DSN is ignored: every session starts with an empty store, and everything is gone when
// the instance or process is (the driver is not durable).
package main

import (
	"context"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
)

// open opens a new, empty in-memory driver for each session, read-only sessions too: such a
// store creates nothing anywhere (the dispatcher refuses a read-only session's writes).
func open(context.Context, abi.Hello) (pdk.Driver, error) {
	return inmem.NewDriver(), nil
}
