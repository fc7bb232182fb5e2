//go:build wasip1

package main

// main is empty: the module is a reactor, whose work is done by pdk/wasmguest's exports.
func main() {}
