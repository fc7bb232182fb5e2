package wasm

import (
	"context"

	"github.com/dockyard/dockyard/pdk/abi"
)

const (
	// minBuffer is the smallest request buffer allocated, so small frames never reallocate.
	minBuffer = 4 << 10
	// keepBuffer is the largest buffer kept between calls; a larger one, left by a large frame,
	// is released at the next call so one big value does not pin guest memory for good.
	keepBuffer = 1 << 20
)

// frames is the guest's per-instance state: the dispatcher and the two persistent buffers the
// exports hand to the host. One call runs at a time, so it needs no lock.
type frames struct {
	d    *abi.Dispatcher
	req  []byte // the request buffer: dockyard_buffer returns it, dockyard_call reads it
	resp []byte // the last response frame, valid until the next call
}

// buffer returns the request buffer, with room for at least size bytes and len size.
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
		f.d = abi.NewDispatcher(open)
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
	return f.resp
}
