//go:build !wasip1

// Command netguest is a wasm test module; see main.go. It does nothing as a native program.
package main

func main() {}
