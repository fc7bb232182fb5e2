//go:build !wasip1

package main

import (
	"github.com/dockyard/dockyard/drivers/postgres"
	"github.com/dockyard/dockyard/pdk/pluginguest"
)

// netOptions: a plugin uses the operating system's network, as far as its sandbox lets it.
var netOptions []postgres.Option

// main serves the driver as a go-plugin binary; it does not return.
func main() { pluginguest.Serve(open) }
