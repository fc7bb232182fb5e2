package abi

import (
	"context"
	"testing"
)

// seedRequests are well-formed request frames that reach most of the dispatcher.
func seedRequests() [][]byte {
	return [][]byte{
		req(hello, ping),
		req(hello, begin(1, true), put(1, "ns", "k", "v"), get(1, "ns", "k"), scan(1, "ns", "", "", 5), commit(1)),
		req(hello, begin(1, false), begin(2, true), put(2, "ns", "a", "1"), put(2, "ns", "b", "2"),
			func(e *Encoder) { e.AppendDelete(2, "ns", "a") }, scan(2, "ns", "", "", 1), scan(2, "ns", "", "a", 9),
			get(1, "ns", "a"), rollback(1), commit(2), closeOp, ping),
		req(hello, begin(3, true), begin(3, false)),
		req(hello, hello, get(5, "x", "y")),
		req(ping),
	}
}

// checkResponseTo fails t unless resp is a well-formed response to request: one result per
// executed operation of a well-formed request of our major, or a single BAD_FRAME or
// INCOMPATIBLE result otherwise.
func checkResponseTo(t *testing.T, request, resp []byte) {
	t.Helper()
	d := NewDecoder(request)
	h, herr := decodeHeader(&d, RequestMagic, "request")
	ops, refusal := opsOf(request), OK
	switch {
	case herr == nil && h.major != Major:
		refusal = Incompatible
	case herr != nil || ops == nil:
		refusal = BadFrame
	}
	if refusal != OK {
		ops = []Op{OpPing} // a refusal answers the frame, not an operation
	}
	r, err := decodeResponse(resp, ops, defaultLimits)
	if err != nil {
		t.Fatalf("response %x to request %x does not decode: %v", resp, request, err)
	}
	if refusal != OK && (r.n != 1 || r.status != refusal) {
		t.Fatalf("request %x answered with %d results ending %s %q, want one %s", request, r.n, r.status, r.msg, refusal)
	}
	rd := NewDecoder(resp)
	if rh, _ := decodeHeader(&rd, ResponseMagic, "response"); rh.major != Major || rh.minor != Minor {
		t.Fatalf("response carries version %d.%d, want the guest's", rh.major, rh.minor)
	}
}

// FuzzDispatcher feeds arbitrary request frames to a Dispatcher over inmem, twice each (so the
// second meets the session the first left): it must never panic, and every response must be
// a well-formed answer to its request.
func FuzzDispatcher(f *testing.F) {
	for _, seed := range seedRequests() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		d := NewDispatcher(InmemOpener)
		var out []byte
		for range 2 {
			out = d.Handle(context.Background(), frame, out)
			checkResponseTo(t, frame, out)
		}
	})
}

// clientShapes are the operation lists FuzzClientResponse decodes responses against.
var clientShapes = [][]Op{
	{OpHello},
	{OpBegin, OpGet},
	{OpRollback, OpBegin, OpPut, OpDelete, OpScan},
	{OpBegin, OpPut, OpCommit},
	{OpHello, OpRollback, OpPing},
}

// FuzzClientResponse feeds arbitrary response frames to the client's response decoder, and to
// a live Client (after a good HELLO) as the answer to every crossing of a transaction: nothing
// may panic, and a decoded response never claims more results than operations.
func FuzzClientResponse(f *testing.F) {
	d := NewDispatcher(InmemOpener)
	for i, seed := range [][]byte{
		req(hello), req(begin(1, false), get(1, "ns", "k")),
		req(rollback(1), begin(2, true), put(2, "ns", "k", "v"), func(e *Encoder) { e.AppendDelete(2, "ns", "j") }, scan(2, "ns", "", "", 3)),
		req(begin(3, true), put(3, "ns", "k", "v"), commit(3)),
		req(hello, rollback(2), ping),
	} {
		f.Add(d.Handle(context.Background(), seed, nil), uint8(i))
	}
	for _, m := range malformedResponses {
		f.Add(m.frame, uint8(0))
	}
	f.Fuzz(func(t *testing.T, frame []byte, shape uint8) {
		ops := clientShapes[int(shape)%len(clientShapes)]
		if r, err := decodeResponse(frame, ops, defaultLimits); err == nil && (r.n > len(ops) || r.n < len(ops) && !r.status.Failure()) {
			t.Fatalf("decoded %d results for %d operations, last %s", r.n, len(ops), r.status)
		}
		good := resp(1, helloOK(guestInfo))
		c, err := NewClient(context.Background(), rtFunc(func(_ context.Context, req []byte) ([]byte, error) {
			if good != nil {
				g := good
				good = nil
				return g, nil
			}
			return frame, nil
		}), Hello{})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		tx, _ := c.Begin(ctx, shape%2 == 0)
		_, _ = tx.Get(ctx, "ns", "k")
		_ = tx.Put(ctx, "ns", "k", []byte("v"))
		_, _, _ = tx.Scan(ctx, "ns", "", "", 10)
		_ = tx.Commit(ctx)
		_ = c.Ping(ctx)
		_ = c.Close()
	})
}
