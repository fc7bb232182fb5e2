package abi

import (
	"bytes"
	"context"
	"errors"
	"sync"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/pdk"
)

// Loopback is the tests' transport: a RoundTripper that hands each request to a Dispatcher in
// the same process, copying frames both ways as a real transport does: the request into a
// persistent guest buffer (as the wasm binding's request buffer), the response out into a new
// slice. After each call it scribbles over the guest's copy of the request, so anything that
// kept aliasing it shows.
type Loopback struct {
	open Opener

	mu       sync.Mutex
	d        *Dispatcher
	in, out  []byte  // the guest's request and response buffers, reused like a wasm guest's
	fail     []error // errors to return instead of crossing, in order
	record   bool
	requests [][]byte
}

// NewLoopback returns a Loopback to a fresh Dispatcher that opens drivers with open.
func NewLoopback(open Opener) *Loopback {
	return &Loopback{open: open, d: NewDispatcher(open)}
}

// InmemOpener opens a new, empty in-memory driver.
func InmemOpener(context.Context, Hello) (pdk.Driver, error) { return inmem.NewDriver(), nil }

// RoundTrip implements RoundTripper.
func (l *Loopback) RoundTrip(ctx context.Context, req []byte) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fail) > 0 {
		err := l.fail[0]
		l.fail = l.fail[1:]
		if errors.Is(err, ErrBroken) {
			l.d = NewDispatcher(l.open) // a fresh instance, which has not seen HELLO
		}
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if l.record {
		l.requests = append(l.requests, bytes.Clone(req))
	}
	l.in = append(l.in[:0], req...)
	l.out = l.d.Handle(ctx, l.in, l.out)
	for i := range l.in {
		l.in[i] = 0xAA
	}
	return bytes.Clone(l.out), nil
}

// FailNext makes the next RoundTrip return err without crossing; an err wrapping ErrBroken
// also replaces the guest instance.
func (l *Loopback) FailNext(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fail = append(l.fail, err)
}

// Record starts recording requests and drops those recorded so far.
func (l *Loopback) Record() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.record, l.requests = true, nil
}

// Requests returns the operations of every request recorded, one slice per crossing.
func (l *Loopback) Requests() [][]Op {
	l.mu.Lock()
	defer l.mu.Unlock()
	var all [][]Op
	for _, req := range l.requests {
		all = append(all, opsOf(req))
	}
	return all
}

// opsOf returns the op codes of a well-formed request frame (nil for a malformed one).
func opsOf(req []byte) []Op {
	d := NewDecoder(req)
	h, err := decodeHeader(&d, RequestMagic, "request")
	if err != nil {
		return nil
	}
	check := d
	if _, err := checkRequest(&check, h.count, nil, new(request)); err != nil {
		return nil
	}
	ops := []Op{}
	for range h.count {
		var r request
		decodeOp(&d, &r)
		ops = append(ops, r.op)
	}
	return ops
}
