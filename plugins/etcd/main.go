// Command etcd is the etcd driver (drivers/etcd) as a go-plugin binary: the very same driver
// code, served in a process of its own through pdk/pluginguest, for an application that wants
// its etcd client (its connections, its lease keepalives) outside its own address space. Build
// it with `make plugins`, or:
//
//	go build -o bin/plugins/etcd ./plugins/etcd
//
// and load it with host/pluginhost (or a manifest with "transport": "plugin"). The DSN is the
// driver's, etcd://host:port[,host:port...][/prefix]. The plugin reaches the cluster over the
// network, so a manifest that confines the plugin must allow the cluster's endpoints in its
// sandbox's "connect" list. TLS files (tls_ca, tls_cert, tls_key) are read by the plugin, inside
// its sandbox: they must be where the sandbox lets it read. The manifest's options, if any, are a JSON object:
//
//	{"lock_ttl": "10s", "dial_timeout": "5s", "request_timeout": "10s", "max_request_bytes": 8388608}
//
// They are etcd.Options (a DSN parameter of the same name overrides them): unknown fields and
// invalid values are an error naming the option. There is no WebAssembly form: the driver needs
// network sockets, which the wasm sandbox does not give.
package main

import (
	"context"
	"fmt"

	"github.com/dockyard/dockyard/drivers/etcd"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/pdk/pluginguest"
)

func main() {
	pluginguest.Serve(open)
}

func open(ctx context.Context, h abi.Hello) (pdk.Driver, error) {
	o, err := parseOptions(h.Options)
	if err != nil {
		return nil, err
	}
	o.ReadOnly = h.ReadOnly // HELLO_READONLY: store.OpenReadOnly on the host
	return etcd.NewDriver(ctx, h.DSN, etcd.WithOptions(o))
}

// parseOptions decodes the manifest's options onto the driver's defaults.
func parseOptions(raw []byte) (etcd.Options, error) {
	o := etcd.DefaultOptions()
	if err := pdk.DecodeOptions(raw, &o); err != nil {
		return o, fmt.Errorf("etcd plugin: %w", err)
	}
	return o, nil
}
