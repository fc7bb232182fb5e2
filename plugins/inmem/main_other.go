//go:build !wasip1

package main

import "github.com/dockyard/dockyard/pdk/plugin"

// main serves the driver as a go-plugin binary; it does not return.
func main() { plugin.Serve(open) }
