// Package wasmhost runs a Dockyard driver
// compiled to WebAssembly, sandboxed under wazero, and turns it into a store.Store: the wasm
// transport of the ABI in package pdk/abi. The guest side is package pdk/wasmguest; the binding
// (exports memory, _initialize, dockyard_buffer and dockyard_call; imports from
// wasi_snapshot_preview1 and, optionally, dockyard_net) is described there and in docs/abi.md.
//
//	s, err := wasmhost.Open(ctx, "bin/wasm/inmem.wasm", "")        // compile and open one store
//
//	m, err := wasmhost.CompileFile(ctx, "bin/wasm/buntdb.wasm")    // compile once ...
//	s1, err := m.Open(ctx, "/var/lib/app/store1")                   // ... open many
//
// Compile checks the binding up front: a missing or mistyped export, or an import from any
// module but wasi_snapshot_preview1 and dockyard_net (or of a function they do not have), is
// an error naming it. Each store gets its own instance,
// created on first use; calls into it run one at a time.
//
// # The sandbox
//
// A guest can compute, allocate up to its memory limit, write lines to stdout and stderr
// (logged through slog, see WithLogger: lines are cut at 16 KiB, and each stream logs at most
// 1 MiB a second, the lines past that dropped and counted in a warning), read real wall and monotonic clocks, sleep, and read
// random bytes from crypto/rand. It gets no arguments, one environment variable
// (DOCKYARD_MEMORY_LIMIT, its memory limit in bytes, by which a Go guest paces its garbage
// collector), no stdin, no network but TCP connections to exactly the endpoints WithConnect
// lists (the manifest's sandbox.connect; resolved by the host; pdk/wasmnet is the guest's
// net.Conn over them, each read and write bounded by the call's deadline, at most
// WithMaxConnections open), and no filesystem —
// except, when the DSN is not empty, the one data directory the DSN names, mounted as the
// guest's "/data" and given to its driver as the DSN. The directory is created if missing.
//
// The mount is this package's implementation of wazero's experimental/sys.FS on top of an
// os.Root. wazero's own directory mount (sysfs.DirFS) resolves guest paths by joining strings,
// so a guest that creates a relative symlink inside its directory pointing outside it can read
// and write through it (wazero issue #2321). os.Root resolves every path component relative to
// the directory's descriptor and refuses any "..", absolute or relative symlink that would
// leave the directory. So the guest may create symlinks and hard links as it likes, but it
// cannot follow one out: such an open fails with EPERM ("operation not permitted"), and the
// attempt is logged at Warn.
//
// Two stores never have one data directory open at once, in this process or another: Open
// takes an exclusive flock(2) on the directory itself (not on a file in it, which the guest
// could delete) and holds it until the store is closed. A second Open fails with an error
// wrapping ErrLocked that names the directory. The files in it may total at most the disk
// quota (WithDiskQuota, 8 GiB by default; a sparse file counts at its size): a write past it
// fails in the guest with EIO, and is logged once.
//
// # Limits and failures
//
// Each instance's linear memory is capped (WithMemoryLimit, 256 MiB by default), and each
// response frame (WithMaxResponse, abi.MaxResponse: 8 MiB). Every call into the guest,
// _initialize included, has a deadline (WithCallTimeout, 30 s by default): a guest looping or
// sleeping past it is stopped. A call is not interrupted by its caller's context, only by the
// deadline: stopping a guest mid-call destroys its instance, and a driver that is not durable
// loses its data with it.
//
// After a trap, an exit, a deadline, an out-of-memory death, a buffer or response outside the
// guest's memory, or an oversize response, the instance is closed and discarded, and the call
// fails with an *InstanceError that wraps abi.ErrBroken and says precisely what happened, e.g.
//
//	wasm module "inmem": guest trapped in dockyard_call: wasm error: unreachable
//	wasm module "inmem": dockyard_call exceeded its 30s deadline (WithCallTimeout)
//	wasm module "inmem": guest returned response [65500,65600) past its 65536-byte memory
//
// The transactions in flight fail; the next call instantiates the module afresh and the ABI
// client says HELLO again, so a durable driver recovers from its files and the store goes on.
// A Go panic in the guest's driver is not a fault of the instance: the dispatcher recovers it
// and the one operation fails.
//
// # The deadline
//
// Compile instruments an untrusted module before compiling it: it adds a counter global, the
// fuel, and an imported host function, yield, and makes the code count down the fuel at the
// entry of every function and at every loop head, calling yield each time it runs out (every
// 16,384 checks). Each instance has one watchdog timer, re-armed for each call (and for the
// instantiation, which runs a start function if the module has one); when a call passes its
// deadline the watchdog marks the instance expired and yield traps the guest, and a guest
// asleep in the host is woken. No code of the guest can reach the fuel.
//
// The call into Go is what keeps the host alive, not only the deadline: the Go runtime cannot
// preempt a goroutine while it runs compiled wasm, so a garbage collection's stop-the-world
// waits until the guest returns to Go. A guest that never did would stop every goroutine of the
// application, its watchdog included, for ever; with yield, a collection waits at most one
// interval of guest work (tens of microseconds). A module the instrumenter cannot rewrite (an
// instruction of a feature wazero does not compile, a malformed section) is refused with the
// reason; WithTrusted runs it as it is. wazero's own WithCloseOnContextDone, which this package
// used before, leaves native code at every loop head (and Go's WebAssembly code passes a loop
// head at every jump) and starts a goroutine for every call into the guest. Instrumenting moves
// code offsets, so a module's DWARF sections are dropped: traps name functions, not source
// lines.
//
// What the deadline and the sandbox cost, measured, is in docs/performance.md.
//
// # Trusted mode
//
// WithTrusted drops the deadline: no watchdog and no checks. A
// trusted guest that loops forever hangs its caller forever, one that sleeps holds its caller
// for the whole sleep, and while a trusted guest's call runs, a garbage collection of the
// whole process waits for it (see The deadline). Use it only for modules you trust as much as
// your own code. The memory limit, the filesystem sandbox and every check of the guest's
// answers apply in trusted mode too.
//
// # Compilation cache
//
// Compiling a module to native code takes seconds for a Go guest (tens of seconds under the
// race detector); wazero's compilation cache on disk (WithCacheDir, by default
// os.UserCacheDir()/dockyard/wazero) makes every later compile of the same module bytes, in
// any process, a fraction of a second.
package wasmhost
