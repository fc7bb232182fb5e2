// Package wasm serves a pdk.Driver from a WebAssembly module: the guest side of the wasm binding
// of the Dockyard ABI (package pdk/abi). host/wasm is the other side.
//
// A plugin's main package registers its driver with Serve and is built as a WASI preview-1
// reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o inmem.wasm ./plugins/inmem
//
//	package main
//
//	func init() { wasm.Serve(func(ctx context.Context, h abi.Hello) (pdk.Driver, error) { return mydriver.Open(h.DSN) }) }
//
//	func main() {}
//
// # The binding
//
// The module imports only wasi_snapshot_preview1 and exports:
//
//   - memory: its linear memory;
//   - _initialize: run once by the host before anything else (Go's runtime and init functions,
//     hence Serve);
//   - dockyard_buffer(size i32) -> i32: returns a pointer to a guest buffer of at least size
//     bytes into which the host writes a request frame; the host calls it before every
//     dockyard_call.
//   - dockyard_call(len i32) -> i64: handles the request frame of len bytes in that buffer with
//     an abi.Dispatcher and returns (ptr << 32) | resp_len, the response frame in guest memory,
//     valid until the next call into the module (the host copies it out).
//
// Both buffers are persistent: this package keeps one request and one response buffer and
// reuses them, so the frames themselves cost no allocation per call (a buffer over 1 MiB left
// by a large frame is released at a later, small one).
//
// One call runs at a time per instance. The DSN in the host's Hello is a path inside the guest's
// sandbox ("/data" when the host mounted a data directory, "" when it mounted none).
//
// The exports exist only when GOOS=wasip1; on other platforms Serve only records the opener,
// so packages that call it still build and vet.
package wasm

import (
	"context"
	"errors"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
)

// opener is the driver opener registered by Serve; nil until then.
var opener abi.Opener

// Serve registers open as the opener of the module's driver: the dispatcher behind the module's
// exports calls it when the host says HELLO. Call it once, from the plugin's init function (or
// main, which _initialize runs too). A later call replaces the opener for sessions that start
// afterwards.
func Serve(open abi.Opener) {
	opener = open
}

// errNotServed is what HELLO reports when the plugin never called Serve.
var errNotServed = errors.New("pdk/wasm: the module never called wasm.Serve: no driver to open")

// open calls the registered opener, or reports that there is none.
func open(ctx context.Context, h abi.Hello) (pdk.Driver, error) {
	if opener == nil {
		return nil, errNotServed
	}
	return opener(ctx, h)
}
