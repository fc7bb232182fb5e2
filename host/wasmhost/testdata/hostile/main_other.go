//go:build !wasip1

// Command hostile is a wasm test module; see main.go. It does nothing as a native program.
package main

func main() {}
