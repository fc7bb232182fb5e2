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
// table is postgres.WithTable (the DSN's dockyard_table, if also given, must agree),
// read_conns postgres.WithReadConns. Unknown fields are an error. There is no WebAssembly form:
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
type options struct {
	Table     string `json:"table"`
	ReadConns int    `json:"read_conns"`
}

// open opens the driver on the server and table the HELLO's DSN names.
func open(ctx context.Context, h abi.Hello) (pdk.Driver, error) {
	opts, err := parseOptions(h.Options)
	if err != nil {
		return nil, err
	}
	return postgres.NewDriver(ctx, h.DSN, opts...)
}

func parseOptions(raw []byte) ([]postgres.Option, error) {
	var o options
	if err := pdk.DecodeOptions(raw, &o); err != nil {
		return nil, fmt.Errorf("postgres plugin: %w", err)
	}
	var opts []postgres.Option
	if o.Table != "" {
		opts = append(opts, postgres.WithTable(o.Table))
	}
	if o.ReadConns < 0 {
		return nil, fmt.Errorf("postgres plugin: options: read_conns %d: must not be negative", o.ReadConns)
	}
	if o.ReadConns > 0 {
		opts = append(opts, postgres.WithReadConns(o.ReadConns))
	}
	return opts, nil
}
