//go:build !wasip1

package main

import "github.com/dockyard/dockyard/pdk/plugin"

func main() { plugin.Serve(open) }
