// Command sqlite is the SQLite driver (drivers/sqlite) as a go-plugin binary: the very same
// driver code, served in a process of its own through pdk/pluginguest. Build it with `make plugins`,
// or:
//
//	go build -o bin/plugins/sqlite ./plugins/sqlite
//
// and load it with host/pluginhost (or a manifest with "transport": "plugin"). The DSN is the
// database file's path, as for drivers/sqlite. The manifest's options, if any, are a JSON
// object:
//
//	{"busy_timeout": "5s", "read_conns": 4}
//
// They are sqlite.Options (busy_timeout a Go duration): unknown fields and invalid values are
// an error naming the option.
package main

import (
	"context"
	"fmt"

	"github.com/dockyard/dockyard/drivers/sqlite"
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
	return sqlite.NewDriver(ctx, h.DSN, sqlite.WithOptions(o))
}

// parseOptions decodes the manifest's options onto the driver's defaults.
func parseOptions(raw []byte) (sqlite.Options, error) {
	o := sqlite.DefaultOptions()
	if err := pdk.DecodeOptions(raw, &o); err != nil {
		return o, fmt.Errorf("sqlite plugin: %w", err)
	}
	return o, nil
}
