//go:build wasip1

package wasmguest

import (
	"github.com/dockyard/dockyard/internal/wasmbinding"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"unsafe"
)

// state is the module instance's one set of frames.
var state frames

// init paces the garbage collector by the memory limit the host announces (gc.go). A plugin
// that knows better may set its own, in its init functions, which run after this one.
func init() {
	env := os.Getenv(wasmbinding.MemoryLimitEnv)
	if percent, limit, ok := gcSettings(env); ok {
		debug.SetMemoryLimit(limit)
		debug.SetGCPercent(percent)
	}
	if limit, err := strconv.ParseInt(env, 10, 64); err == nil && limit > 0 {
		state.guard = newMemGuard(limit, heapMetrics, runtime.GC)
	}
}

// dockyardBuffer is the dockyard_buffer export: the address of a buffer of at least size bytes.
//
//go:wasmexport dockyard_buffer
func dockyardBuffer(size uint32) uint32 {
	b := state.buffer(size)
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b[:cap(b)]))))
}

// dockyardCall is the dockyard_call export: it handles the request of n bytes in the buffer and
// returns the response's address and length packed as (ptr << 32) | len.
//
//go:wasmexport dockyard_call
func dockyardCall(n uint32) uint64 {
	resp := state.call(n)
	if len(resp) == 0 {
		return 0
	}
	ptr := uint32(uintptr(unsafe.Pointer(unsafe.SliceData(resp))))
	return uint64(ptr)<<32 | uint64(uint32(len(resp)))
}

// heapMetrics reads the live heap at the end of the last collection and the collections so far.
func heapMetrics() (live int64, cycles uint64) {
	s := [2]metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s[:])
	if s[0].Value.Kind() == metrics.KindUint64 {
		live = int64(s[0].Value.Uint64())
	}
	if s[1].Value.Kind() == metrics.KindUint64 {
		cycles = s[1].Value.Uint64()
	}
	return live, cycles
}
