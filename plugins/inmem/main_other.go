//go:build !wasip1

package main

import "github.com/dockyard/dockyard/pdk/pluginguest"

// main serves the driver as a go-plugin binary; it does not return.
func main() { pluginguest.Serve(open) }
