// Package wasmguest serves a pdk.Driver from a WebAssembly module: the guest side of the wasm binding
// of the Dockyard ABI (package pdk/abi). host/wasmhost is the other side.
//
// A plugin's main package registers its driver with Serve and is built as a WASI preview-1
// reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o inmem.wasm ./plugins/inmem
//
//	package main
//
//	func init() { wasmguest.Serve(func(ctx context.Context, h abi.Hello) (pdk.Driver, error) { return mydriver.Open(h.DSN) }) }
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
//   - dockyard_buffer(size i32) -> i32: returns a pointer to the request buffer, of at least size
//     bytes, into which the host writes request frames. The buffer stays put, and at least size
//     bytes long, until the next dockyard_buffer call: the host writes request after request
//     into it and calls dockyard_buffer again only for a larger one (or to let a large buffer
//     go), so that a crossing is normally one call.
//   - dockyard_call(len i32) -> i64: handles the request frame of len bytes in that buffer with
//     an abi.Dispatcher and returns (ptr << 32) | resp_len, the response frame in guest memory,
//     valid until the next call into the module (the host copies it out).
//
// Both buffers are persistent: this package keeps one request and one response buffer and
// reuses them, so the frames themselves cost no allocation per call. The request buffer is
// replaced only in dockyard_buffer (when it is too small, or when a request of at most a
// quarter MiB follows one over 1 MiB, which releases the large buffer); a response buffer over
// 1 MiB is released at the next call.
//
// # Garbage collection and goroutines
//
// In a reactor, Go code runs only inside calls from the host, on the calling goroutine: the
// runtime's other goroutines, the garbage collector's background mark worker first, run only
// when a call yields. dockyard_call therefore yields to the scheduler (runtime.Gosched, about a
// microsecond) once every 16 KiB of frames it has handled. Without that, a collection is driven
// by allocation alone: it drags on with every write barrier on, what is allocated meanwhile
// counts as live, and the heap ratchets up; writes ran two to three times slower. A driver's
// own background goroutines (timers, say) get their turns at the same yields.
//
// The host announces the guest's memory limit in the environment variable
// DOCKYARD_MEMORY_LIMIT (wasmbinding.MemoryLimitEnv). When it is set, the package sets the garbage
// collector's growth target to 200 (GOGC; Go's default is 100), as a collection costs a
// WebAssembly guest more than a native program, and a soft memory limit of three quarters of
// the hard one, which keeps the larger heap within the memory the host allows. A plugin may
// set its own with runtime/debug in its init functions, which run after this package's.
//
// One call runs at a time per instance. The DSN in the host's Hello is a path inside the guest's
// sandbox ("/data" when the host mounted a data directory, "" when it mounted none).
//
// The exports exist only when GOOS=wasip1; on other platforms Serve only records the opener,
// so packages that call it still build and vet.
package wasmguest

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
var errNotServed = errors.New("pdk/wasmguest: the module never called wasmguest.Serve: no driver to open")

// open calls the registered opener, or reports that there is none.
func open(ctx context.Context, h abi.Hello) (pdk.Driver, error) {
	if opener == nil {
		return nil, errNotServed
	}
	return opener(ctx, h)
}
