package wasmguest

import (
	"context"
	"runtime"

	"github.com/dockyard/dockyard/pdk/abi"
)

const (
	// minBuffer is the smallest request buffer allocated, so small frames never reallocate.
	minBuffer = 4 << 10
	// keepBuffer is the largest buffer kept for long; a larger one, left by a large frame, is
	// released later (the request buffer when dockyard_buffer is asked for a small one, the
	// response buffer at the next call) so one big value does not pin guest memory for good.
	keepBuffer = 1 << 20
	// yieldEvery is how many frame bytes dockyard_call handles between two yields to the Go
	// scheduler. In a reactor, Go code runs only inside a call from the host, on the calling
	// goroutine: the runtime's other goroutines, the garbage collector's background mark
	// worker first, run only when it yields. Without the worker, a collection is driven by
	// allocation alone: it drags on with every write barrier on, and what is allocated
	// meanwhile counts as live, so the heap ratchets up. A yield costs about a microsecond;
	// frame bytes are a cheap measure of the allocation a call may have done.
	yieldEvery = 16 << 10
)

// frames is the guest's per-instance state: the dispatcher and the two persistent buffers the
// exports hand to the host. One call runs at a time, so it needs no lock.
type frames struct {
	d *abi.Dispatcher
	// guard admits or refuses writes by the memory limit (memguard.go); nil admits all.
	guard *memGuard
	// req is the request buffer: dockyard_buffer returns it, dockyard_call reads it. Only
	// buffer replaces it.
	req  []byte
	resp []byte // the last response frame, valid until the next call
	// sinceYield counts the frame bytes, requests and responses, handled since the last yield.
	sinceYield int
}

// buffer returns the request buffer, with room for at least size bytes and len size. The host
// may write request after request into it until the next call of buffer (docs/abi.md), so only
// buffer may replace it.
func (f *frames) buffer(size uint32) []byte {
	n := int(size)
	switch {
	case f.req == nil, cap(f.req) < n, cap(f.req) > keepBuffer && n <= keepBuffer/4:
		f.req = make([]byte, max(n, minBuffer))
	}
	f.req = f.req[:cap(f.req)]
	return f.req[:n]
}

// call handles the request frame in the first n bytes of the request buffer and returns the
// response frame. n larger than the buffer is clamped to it: the truncated frame is then
// answered as malformed by the dispatcher.
func (f *frames) call(n uint32) []byte {
	if f.d == nil {
		var opts []abi.DispatcherOption
		if f.guard != nil {
			opts = append(opts, abi.WithWriteAdmission(f.guard.admit))
		}
		f.d = abi.NewDispatcher(open, opts...)
	}
	if f.req == nil { // dockyard_call before any dockyard_buffer: an empty request
		f.buffer(0)
	}
	req := f.req[:min(int(n), len(f.req))]
	out := f.resp
	if cap(out) > keepBuffer {
		out = nil
	}
	f.resp = f.d.Handle(context.Background(), req, out[:0])
	// Let the runtime's other goroutines run now and then (see yieldEvery).
	if f.sinceYield += len(req) + len(f.resp); f.sinceYield >= yieldEvery {
		f.sinceYield = 0
		runtime.Gosched()
	}
	return f.resp
}
