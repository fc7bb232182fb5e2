package wasmguest

import (
	"strconv"
)

// gcPercent is the garbage collector's growth target (GOGC) in a guest that knows its memory
// limit. A collection in a WebAssembly guest is expensive (one thread: the marking is done in
// the calls, by the allocating code and at the yields of dockyard_call), so the guest collects
// half as often as Go's default, 100, would have it; the soft memory limit below keeps the
// heap this lets grow within the memory the host allows. (400 measured slower: a larger heap
// costs the host more in growing the linear memory, which wazero does by copying it. Measured
// again with plugins/inmem's in-place structure, which allocates little: 100, 200, 400 and 800
// were within noise of each other on an Update of 100 Puts and on a Put at 1M keys;
// docs/pdk-go.md has the figures.)
const gcPercent = 200

// gcSettings returns the garbage collector settings for a guest whose host set wasmbinding.MemoryLimitEnv
// to env: gcPercent, and a soft memory limit of three quarters of the hard one (the rest is
// headroom for what the Go runtime keeps outside the heap, and for the limit being soft). ok
// is false, and the Go defaults stay, when env is not a positive number.
func gcSettings(env string) (percent int, softLimit int64, ok bool) {
	n, err := strconv.ParseInt(env, 10, 64)
	if err != nil || n <= 0 {
		return 0, 0, false
	}
	return gcPercent, n - n/4, true
}
