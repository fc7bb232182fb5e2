// Package wasmbinding defines the WebAssembly binding of the ABI once, for both of its ends:
// the names a driver module exports, the one module it may import, the environment the host
// gives it and where it sees its data directory. The host (host/wasmhost) and the Go guest kit
// (pdk/wasmguest) import it; docs/abi.md, "WebAssembly binding", describes it for modules
// written in other languages (the C kit, pdk/c/wasm.c, spells the same names).
//
// A Go guest cannot take its export names from here: a //go:wasmexport directive needs a
// literal. pdk/wasmguest's test checks that its directives spell these constants.
package wasmbinding

// The exports a driver module must have, and the one import module it may use.
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
	// ImportWASI is the one import module allowed: WASI preview 1.
	ImportWASI = "wasi_snapshot_preview1"
)

// MemoryLimitEnv is the one environment variable a guest gets: the largest size, in bytes, its
// linear memory may grow to. A Go guest paces its garbage collector by it.
const MemoryLimitEnv = "DOCKYARD_MEMORY_LIMIT"

// DataDir is where a guest sees the data directory the host mounted for its store, and the DSN
// its driver is given.
const DataDir = "/data"
