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
// busy_timeout is sqlite.WithBusyTimeout (a Go duration), read_conns sqlite.WithReadConns.
// Unknown fields are an error.
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/dockyard/dockyard/drivers/sqlite"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/pdk/pluginguest"
)

func main() {
	pluginguest.Serve(open)
}

// options is the JSON form of the manifest's options.
type options struct {
	BusyTimeout string `json:"busy_timeout"`
	ReadConns   int    `json:"read_conns"`
}

// open opens the driver on the database file the HELLO's DSN names.
func open(ctx context.Context, h abi.Hello) (pdk.Driver, error) {
	opts, err := parseOptions(h.Options)
	if err != nil {
		return nil, err
	}
	return sqlite.NewDriver(ctx, h.DSN, opts...)
}

func parseOptions(raw []byte) ([]sqlite.Option, error) {
	var o options
	if err := pdk.DecodeOptions(raw, &o); err != nil {
		return nil, fmt.Errorf("sqlite plugin: %w", err)
	}
	var opts []sqlite.Option
	if o.BusyTimeout != "" {
		d, err := time.ParseDuration(o.BusyTimeout)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("sqlite plugin: options: busy_timeout %q: not a non-negative Go duration", o.BusyTimeout)
		}
		opts = append(opts, sqlite.WithBusyTimeout(d))
	}
	if o.ReadConns < 0 {
		return nil, fmt.Errorf("sqlite plugin: options: read_conns %d: must not be negative", o.ReadConns)
	}
	if o.ReadConns > 0 {
		opts = append(opts, sqlite.WithReadConns(o.ReadConns))
	}
	return opts, nil
}
