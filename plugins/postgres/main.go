// Command postgres is the PostgreSQL driver (drivers/postgres) as a go-plugin binary: the very
// same driver code, served in a process of its own through pdk/pluginguest, for an application that
// wants its database client (and its connections) outside its own address space. Build it with
// `make plugins`, or:
//
//	go build -o bin/plugins/postgres ./plugins/postgres
//
// and load it with host/pluginhost (or a manifest with "transport": "plugin"). The DSN is a
// PostgreSQL connection string, with the driver's dockyard_table parameter, as for
// drivers/postgres. The manifest's options, if any, are a JSON object:
//
//	{"table": "orders", "read_conns": 4}
//
// They are postgres.Options (the DSN's dockyard_table, if also given, must agree with table):
// unknown fields and invalid values are an error naming the option. There is no WebAssembly form:
// the driver needs network sockets, which the wasm sandbox does not give.
package main

import (
	"context"
	"fmt"

	"github.com/dockyard/dockyard/drivers/postgres"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/pdk/pluginguest"
)

func main() {
	pluginguest.Serve(open)
}

// options is the JSON form of the manifest's options.
func open(ctx context.Context, h abi.Hello) (pdk.Driver, error) {
	o, err := parseOptions(h.Options)
	if err != nil {
		return nil, err
	}
	o.ReadOnly = h.ReadOnly // HELLO_READONLY: store.OpenReadOnly on the host
	return postgres.NewDriver(ctx, h.DSN, postgres.WithOptions(o))
}

// parseOptions decodes the manifest's options onto the driver's defaults.
func parseOptions(raw []byte) (postgres.Options, error) {
	o := postgres.DefaultOptions()
	if err := pdk.DecodeOptions(raw, &o); err != nil {
		return o, fmt.Errorf("postgres plugin: %w", err)
	}
	return o, nil
}
