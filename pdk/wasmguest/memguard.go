package wasmguest

import (
	"fmt"
	"github.com/dockyard/dockyard/internal/wasmbinding"
)

// A Go guest that runs out of memory does not fail the allocation: the runtime dies ("fatal
// error: out of memory"), which traps, and the host discards the instance with everything a
// driver that is not durable held. So the guest refuses a write that would take its heap
// near its memory limit, as the C runtime's drivers do when malloc fails, and keeps its data.
//
// The bound is on the live heap, which is what a write adds to for good: the heap live at the
// end of the last collection plus every byte admitted since (a write's namespace, key and
// value, plus writeOverhead), at most guardShare of the limit. The rest is room for what the
// runtime needs besides (the request and response buffers, garbage between collections, the
// collector's own memory: the soft memory limit, gc.go, is at three quarters). Reading the
// collector's metrics costs about a microsecond, so the guard reads them only after a
// sixty-fourth of the bound has been admitted, or when the estimate says a write does not fit;
// then it first collects, to judge by what is live now rather than refuse by an estimate.
const (
	guardShareNum, guardShareDen = 5, 8
	writeOverhead                = 256 // the entry and the tree nodes a write copies, about
)

// memGuard decides which writes the guest admits; its zero value (no limit) admits all.
type memGuard struct {
	limit, bound int64 // the memory limit, and guardShare of it; 0: no guard
	live         int64 // the live heap at the end of the last collection read
	cycles       uint64
	since        int64 // bytes admitted since that collection
	unread       int64 // bytes admitted since the metrics were last read
	read         func() (live int64, cycles uint64)
	collect      func()
}

// newMemGuard returns the guard of a guest whose memory limit is limit bytes (0: none), reading
// the collector's state with read and forcing a collection with collect.
func newMemGuard(limit int64, read func() (int64, uint64), collect func()) *memGuard {
	g := &memGuard{read: read, collect: collect}
	if limit > 0 {
		g.limit, g.bound = limit, limit/guardShareDen*guardShareNum
		g.refresh()
	}
	return g
}

// admit admits a write of size bytes, or says why it does not fit.
func (g *memGuard) admit(size int) error {
	if g.bound == 0 {
		return nil
	}
	cost := int64(size) + writeOverhead
	if g.unread+cost > g.bound/64 {
		g.refresh()
	}
	if g.live+g.since+cost > g.bound {
		g.collect()
		g.refresh()
		if g.live+g.since+cost > g.bound {
			return fmt.Errorf("pdk/wasmguest: out of memory: a write of %d bytes would take the guest's live heap (%d bytes) past %d bytes, %d/%d of its %d-byte memory limit (%s); nothing was written",
				size, g.live+g.since, g.bound, guardShareNum, guardShareDen, g.limit, wasmbinding.MemoryLimitEnv)
		}
	}
	g.since += cost
	g.unread += cost
	return nil
}

// refresh reads the collector's state: after a collection that was not read yet, its live
// heap replaces the estimate.
func (g *memGuard) refresh() {
	live, cycles := g.read()
	if cycles != g.cycles {
		g.live, g.cycles, g.since = live, cycles, 0
	}
	g.unread = 0
}
