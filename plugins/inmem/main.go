// Command inmem is the in-memory driver (drivers/inmem) as a WebAssembly module: the very same
// driver code, served through pdk/wasm. Build it with `make wasm`, or:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/wasm/inmem.wasm ./plugins/inmem
//
// and load it with host/wasm. The DSN is ignored: every session starts with an empty store,
// and everything is gone when the instance is (the driver is not durable).
package main

import (
	"context"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/pdk/wasm"
)

func init() {
	wasm.Serve(func(context.Context, abi.Hello) (pdk.Driver, error) {
		return inmem.NewDriver(), nil
	})
}
