//go:build !wasip1

package main

import (
	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/pluginguest"
)

// newDriver is drivers/inmem's: a plugin's calls run in parallel, which its copy-on-write tree
// lets readers do without waiting.
func newDriver() pdk.Driver { return inmem.NewDriver() }

// main serves the driver as a go-plugin binary; it does not return.
func main() { pluginguest.Serve(open) }
