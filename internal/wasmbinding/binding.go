// Package wasmbinding defines the WebAssembly binding of the ABI once, for both of its ends:
// the names a driver module exports, the modules it may import (WASI, and the optional network
// of dockyard_net), the environment the host gives it and where it sees its data directory.
// The host (host/wasmhost) and the Go guest kits (pdk/wasmguest, pdk/wasmnet) import it;
// docs/abi.md, "WebAssembly binding", describes it for modules written in other languages (the
// C kit, pdk/c/wasm.c, spells the same names).
//
// A Go guest cannot take its export and import names from here: a //go:wasmexport or
// //go:wasmimport directive needs literals. The tests of pdk/wasmguest and pdk/wasmnet check
// that their directives spell these constants.
package wasmbinding

// The exports a driver module must have, and the import module every one may use.
const (
	// ExportMemory is the module's linear memory, through which frames cross.
	ExportMemory = "memory"
	// ExportInit is the reactor's initializer, run once before any other call.
	ExportInit = "_initialize"
	// ExportBuffer is dockyard_buffer(size i32) -> i32: the address of a request buffer of at
	// least size bytes.
	ExportBuffer = "dockyard_buffer"
	// ExportCall is dockyard_call(len i32) -> i64: handles the request of len bytes in the
	// buffer and returns its response as (address << 32) | length.
	ExportCall = "dockyard_call"
	// ImportWASI is the import module every module may use: WASI preview 1 (ImportNet is the
	// other, optional one).
	ImportWASI = "wasi_snapshot_preview1"
)

// MemoryLimitEnv is the one environment variable a guest gets: the largest size, in bytes, its
// linear memory may grow to. A Go guest paces its garbage collector by it.
const MemoryLimitEnv = "DOCKYARD_MEMORY_LIMIT"

// DataDir is where a guest sees the data directory the host mounted for its store, and the DSN
// its driver is given.
const DataDir = "/data"

// The optional network of the binding (docs/abi.md, "Network (optional)"): host functions in
// the import module ImportNet through which a guest opens TCP connections to the endpoints its
// sandbox allows (a manifest's sandbox.connect). A module that imports none of them runs as
// before; one that imports them from a host without them fails to load, naming the import.
//
// Every function returns one i32 (i64 for none): a non-negative result, or one of the Net*
// error codes. Pointers and lengths are the guest's, in its linear memory; a timeout is in
// nanoseconds, 0 for none of its own (the call's deadline bounds every function anyway).
const (
	// ImportNet is the import module of the network functions, version 1. A later version
	// adds functions under new names; an incompatible change would take a new module name.
	ImportNet = "dockyard_net"
	// NetConnect is connect(addr_ptr i32, addr_len i32, timeout_ns i64) -> i32: opens a TCP
	// connection to the endpoint named by the string at addr_ptr, which must be one of the
	// allowed endpoints exactly as listed, and returns its handle (> 0).
	NetConnect = "connect"
	// NetRead is read(handle i32, buf_ptr i32, buf_len i32, timeout_ns i64) -> i32: reads at
	// most buf_len bytes (the host may read fewer) into the buffer and returns how many; 0 is
	// the end of the stream.
	NetRead = "read"
	// NetWrite is write(handle i32, buf_ptr i32, buf_len i32, timeout_ns i64) -> i32: writes
	// bytes of the buffer, at most NetMaxIO in one call, and returns how many.
	NetWrite = "write"
	// NetClose is close(handle i32) -> i32: closes the connection; 0 or NetErrBadHandle.
	NetClose = "close"
	// NetLastError is last_error(buf_ptr i32, buf_len i32) -> i32: copies the message of the
	// last error of a network function (at most buf_len bytes of it) and returns its full
	// length, 0 when there was none.
	NetLastError = "last_error"
)

// NetMaxIO is the most bytes one read or write of the network moves: a guest loops for more.
const NetMaxIO = 64 << 10

// The error codes of the network functions.
const (
	// NetErrNotAllowed: the endpoint is not one the sandbox allows (logged by the host).
	NetErrNotAllowed = -1
	// NetErrLimit: the instance has as many connections open as it may.
	NetErrLimit = -2
	// NetErrTimeout: the function's timeout passed (a read or write may be retried).
	NetErrTimeout = -3
	// NetErrBadHandle: no open connection has this handle.
	NetErrBadHandle = -4
	// NetErrConnect: the endpoint was allowed but the connection failed (the name did not
	// resolve, the server refused it or could not be reached).
	NetErrConnect = -5
	// NetErrIO: the connection failed (reset by the peer, or broken).
	NetErrIO = -6
	// NetErrInvalid: an argument is invalid: a buffer outside the guest's memory, a negative
	// length, an endpoint string over 1024 bytes.
	NetErrInvalid = -7
)
