// Command buntdb is the buntdb driver (drivers/buntdb) as a driver artifact: the very same
// driver code, shipped in either form. Built for wasip1 it is a WebAssembly module served
// through pdk/wasmguest, loaded with host/wasmhost (`make wasm`):
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/wasm/buntdb.wasm ./plugins/buntdb
//
// Built for the host's platform it is a go-plugin binary served through pdk/pluginguest, loaded with
// host/pluginhost (`make plugins`). The driver is durable and needs a data directory. In wasm the
// host must mount one for the store, and the DSN of the HELLO is its path inside the sandbox
// ("/data"); as a plugin the DSN is the directory's path.
// An empty DSN (no directory mounted) is refused. The database file is store.db in that
// directory; the whole store is held in the module's memory, so the host's memory cap bounds
// its size.
//
// The manifest's options, if any, are a JSON object:
//
//	{"compact_min_size": 33554432}
//
// compact_min_size is buntdb.WithCompactMinSize: the file size below which the database file is
// never compacted (negative: never compact). Unknown fields are an error.
package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/dockyard/dockyard/drivers/buntdb"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
)

// options is the JSON form of the manifest's options.
// open opens the driver on the data directory named by the HELLO's DSN.
func open(_ context.Context, h abi.Hello) (pdk.Driver, error) {
	if h.DSN == "" {
		return nil, errors.New("buntdb: no data directory: the host mounted none (empty DSN), " +
			"and this driver keeps its database file in one; give the store a data directory")
	}
	o := buntdb.DefaultOptions()
	if err := pdk.DecodeOptions(h.Options, &o); err != nil {
		return nil, fmt.Errorf("buntdb: %w", err)
	}
	o.ReadOnly = h.ReadOnly // HELLO_READONLY: store.OpenReadOnly on the host
	return buntdb.NewDriver(h.DSN, buntdb.WithOptions(o))
}
