//go:build !wasip1

package main

import "github.com/dockyard/dockyard/pdk/pluginguest"

func main() { pluginguest.Serve(open) }
