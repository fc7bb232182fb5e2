// Command scanorder is a deliberately broken driver as a WebAssembly module, a test fixture of
// `dockyard conform`: the in-memory driver, except that its Scan pages come in descending key
// order. Built by the tests with internal/artifactbuild.
package main

import (
	"context"

	"github.com/dockyard/dockyard/cmd/dockyard/internal/broken"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/pdk/wasmguest"
)

func init() {
	wasmguest.Serve(func(context.Context, abi.Hello) (pdk.Driver, error) {
		return broken.NewScanOrder(), nil
	})
}
