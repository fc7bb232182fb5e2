// Command postgres is the PostgreSQL driver (drivers/postgres) as a driver artifact: the very
// same driver code, shipped in either form. Built for the host's platform it is a go-plugin
// binary served through pdk/pluginguest, for an application that wants its database client
// (and its connections) outside its own address space (`make plugins`):
//
//	go build -o bin/plugins/postgres ./plugins/postgres
//
// loaded with host/pluginhost (or a manifest with "transport": "plugin"). Built for wasip1 it
// is a WebAssembly module served through pdk/wasmguest (`make wasm`):
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o bin/wasm/postgres.wasm ./plugins/postgres
//
// loaded with host/wasmhost, or a manifest with "transport": "wasm", "dsn_form": "server" (so
// that the host hands the DSN to the module as it is, instead of taking it for a directory to
// mount) and the server in its sandbox.connect: the module has no network but the connections
// the host opens for it to the endpoints listed there (pdk/wasmnet), and it names the server
// exactly as it is listed (the DSN's host and port must be a listed endpoint; the host
// resolves the name).
//
// In both forms the DSN is a PostgreSQL connection string, with the driver's dockyard_table
// parameter, as for drivers/postgres. The manifest's options, if any, are a JSON object:
//
//	{"table": "orders", "read_conns": 4}
//
// They are postgres.Options (the DSN's dockyard_table, if also given, must agree with table):
// unknown fields and invalid values are an error naming the option.
package main

import (
	"context"
	"fmt"

	"github.com/dockyard/dockyard/drivers/postgres"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
)

// open opens the driver on the server named by the HELLO's DSN, with the manifest's options;
// netOptions (main_wasip1.go, main_other.go) says how it reaches the server.
func open(ctx context.Context, h abi.Hello) (pdk.Driver, error) {
	o, err := parseOptions(h.Options)
	if err != nil {
		return nil, err
	}
	o.ReadOnly = h.ReadOnly // HELLO_READONLY: store.OpenReadOnly on the host
	return postgres.NewDriver(ctx, h.DSN, append([]postgres.Option{postgres.WithOptions(o)}, netOptions...)...)
}

// parseOptions decodes the manifest's options onto the driver's defaults.
func parseOptions(raw []byte) (postgres.Options, error) {
	o := postgres.DefaultOptions()
	if err := pdk.DecodeOptions(raw, &o); err != nil {
		return o, fmt.Errorf("postgres plugin: %w", err)
	}
	return o, nil
}
