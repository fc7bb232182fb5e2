//go:build wasip1

package main

// main is empty: the module is a reactor, whose work is done by pdk/wasm's exports.
func main() {}
