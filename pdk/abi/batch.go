package abi

import (
	"context"
	"errors"
	"fmt"

	"github.com/dockyard/dockyard/store"
)

// batch describes the request frame in c.req: which operation is where.
type batch struct {
	ops          []Op
	hello        bool         // ops[0] is HELLO
	rbs          []*clientTxn // queued rollbacks, at ops[rbStart:rbStart+len(rbs)]
	rbStart      int
	beginAt      int // index of t's BEGIN, or -1
	wStart, wEnd int // t's buffered writes are ops[wStart:wEnd]
	finalAt      int // index of the final operation, or -1
}

// shrinkAbove is the request buffer capacity beyond which the client lets the buffer go after
// a crossing instead of keeping it for the next.
const shrinkAbove = 1 << 20

// crossLocked sends, while holding the crossing lock, one batch: HELLO if the session must be
// (re)opened, the queued read rollbacks, then t's BEGIN (if it has not crossed) and buffered
// writes when t is not nil, then fin when it is not nil. It applies the response to the
// client's and t's state and decodes it into r, unless r is nil (a caller that wants no
// payload); r is filled in place rather than returned because it is large, and a GET's answer
// would otherwise be copied at every level between decodeResponse and clientTxn.Get. A failed
// queued rollback (the guest ends that transaction all the same) stops the batch, so the rest
// is sent again. With check, it first fails if the client is closed or t was lost. r is the
// caller's only when the error is nil.
func (c *Client) crossLocked(ctx context.Context, t *clientTxn, fin *final, check bool, r *response) error {
	if r == nil {
		r = new(response) // does not escape: on the stack, and zeroed only for such callers
	}
	redelivered := false
	var b batch
	for {
		err := c.build(t, fin, check, &b)
		check = false
		if err != nil || len(b.ops) == 0 {
			return err
		}
		if b.beginAt >= 0 {
			t.begun = true // from here on the guest may hold it
		}
		resp, err := c.rt.RoundTrip(ctx, c.req)
		c.roundTrips.Add(1)
		if cap(c.req) > shrinkAbove {
			c.req = nil
		}
		if err != nil {
			if errors.Is(err, ErrBroken) {
				// A request that never reached the guest, because its instance was already
				// gone, is sent again once to the next instance (with HELLO) when it lost
				// nothing: it starts no earlier transaction's work. So the first use after
				// an instance died between transactions succeeds.
				fresh := !redelivered && errors.Is(err, ErrNotDelivered) && (t == nil || b.beginAt >= 0)
				if fresh && t != nil {
					t.begun = false
				}
				lost := c.abandon(t, &b, fin, fmt.Errorf("the guest instance was discarded: %w", err))
				if fresh && !errors.Is(lost, store.ErrStoreLost) {
					redelivered = true
					continue
				}
				return lost
			}
			// The guest did not see the request (RoundTripper's contract): as you were.
			c.requeue(b.rbs)
			if b.beginAt >= 0 {
				t.begun = false
			}
			return fmt.Errorf("abi: round trip: %w", err)
		}
		if err := decodeResponseInto(resp, b.ops, c.answerLimits(fin), r); err != nil {
			err = fmt.Errorf("the guest session was abandoned after a malformed response: %w", err)
			if d, ok := c.rt.(Discarder); ok {
				d.Discard(err)
			}
			return c.abandon(t, &b, fin, err)
		}
		retry, err := c.apply(t, fin, &b, r)
		if !retry {
			return err
		}
	}
}

// abandon gives up the guest session after batch b, which ended with fin, went wrong with
// cause: every transaction that reached the guest is lost, the rollbacks b carried are
// dropped, and the next batch starts with HELLO. It returns the error for the caller. When b
// carried a COMMIT, the guest may have committed before it was lost: that error also wraps
// store.ErrCommitUnknown, and nothing is retried.
func (c *Client) abandon(t *clientTxn, b *batch, fin *final, cause error) error {
	cause = c.lose(cause)
	c.requeue(b.rbs) // lost now: the next batch drops them and forgets their ids
	err := c.lostErr(t, cause)
	if fin != nil && fin.op == OpCommit && !errors.Is(cause, ErrNotDelivered) {
		err = fmt.Errorf("%w: %w", store.ErrCommitUnknown, err)
	}
	return err
}

// answerLimits returns what the response to a batch ending with fin may carry: keys and values
// within the sizes the guest declared (the store's, when it declared none or larger ones), a
// scan page within fin's limit.
func (c *Client) answerLimits(fin *final) answerLimits {
	lim := answerLimits{
		maxKey:    sizeLimit(c.guest.MaxKeySize, store.MaxKeySize),
		maxValue:  sizeLimit(c.guest.MaxValueSize, store.MaxValueSize),
		scanLimit: MaxScanLimit,
	}
	if fin != nil && fin.op == OpScan {
		lim.scanLimit = fin.limit
	}
	return lim
}

// sizeLimit returns declared capped at max, or max when declared is zero, as the pdk adapter
// reads a driver's declared sizes.
func sizeLimit(declared uint32, max int) int {
	if declared == 0 || int64(declared) > int64(max) {
		return max
	}
	return int(declared)
}

// build encodes the next batch into c.req and describes it in b. It fails, sending nothing, if
// the frame would pass the largest request, or (with check) if the client is closed or t was
// lost.
func (c *Client) build(t *clientTxn, fin *final, check bool, b *batch) error {
	*b = batch{beginAt: -1, finalAt: -1}
	if err := c.takeQueue(t, check); err != nil {
		return err
	}
	b.ops = c.ops[:0]
	e := NewEncoder(c.req)
	e.AppendHeader(RequestMagic, Major, Minor, 0)
	if c.needHello {
		e.AppendHello(c.hello)
		b.ops = append(b.ops, c.hello.op())
		b.hello = true
	}
	b.rbs, b.rbStart = c.rbs, len(b.ops)
	for _, rt := range b.rbs {
		e.AppendRollback(rt.id)
		b.ops = append(b.ops, OpRollback)
	}
	if t != nil {
		if !t.begun && (len(t.pendingOps) > 0 || fin != nil) {
			b.beginAt = len(b.ops)
			e.AppendBegin(t.id, t.writable)
			b.ops = append(b.ops, OpBegin)
		}
		b.wStart = len(b.ops)
		e.buf = append(e.buf, t.pending...)
		b.ops = append(b.ops, t.pendingOps...)
		b.wEnd = len(b.ops)
	}
	if fin != nil {
		b.finalAt = len(b.ops)
		var id uint32
		if t != nil {
			id = t.id
		}
		fin.append(&e, id)
		b.ops = append(b.ops, fin.op)
	}
	e.SetCount(uint32(len(b.ops)))
	c.req, c.ops = e.Bytes(), b.ops
	if e.Len() > c.maxRequest {
		c.requeue(b.rbs)
		*b = batch{}
		return fmt.Errorf("%w: request frame of %d bytes exceeds the largest request, %d bytes", store.ErrTooLarge, e.Len(), c.maxRequest)
	}
	return nil
}

// apply updates the client's and t's state from the response r to batch b and returns the
// error for the caller, or retry when a queued rollback stopped the batch.
func (c *Client) apply(t *clientTxn, fin *final, b *batch, r *response) (retry bool, err error) {
	f := -1 // index of the failed operation
	var ferr error
	if r.status.Failure() {
		f = r.n - 1
		ferr = r.status.Err(r.msg)
	}
	if b.hello {
		if f == 0 {
			c.requeue(b.rbs)
			if b.beginAt >= 0 {
				t.begun = false
			}
			if c.hello.ReadOnly && r.status == BadFrame {
				// A guest before ABI 1.2 knows no HELLO_READONLY, and refused the frame whole.
				return false, fmt.Errorf("%w: the guest does not know HELLO_READONLY (ABI 1.2): %w", store.ErrReadOnlyUnsupported, ferr)
			}
			return false, fmt.Errorf("abi: opening the guest session: %w", ferr)
		}
		if r.info.Major != Major {
			return false, c.abandon(t, b, nil, fmt.Errorf("%w: guest speaks ABI %d.%d, host speaks ABI %d.%d", ErrIncompatible, r.info.Major, r.info.Minor, Major, Minor))
		}
		c.needHello = false
		if c.opened {
			c.reopens.Add(1)
		} else {
			c.opened, c.guest = true, r.info
		}
	}
	switch r.status {
	case NotOpen, BadFrame, Incompatible:
		// The guest does not know the session, or does not read our frames as we wrote them.
		return false, c.abandon(t, b, nil, fmt.Errorf("the guest session was abandoned: %w", ferr))
	}
	done := min(max(r.n-b.rbStart, 0), len(b.rbs)) // rollbacks the guest executed (or failed)
	c.settle(b.rbs[:done], b.rbs[done:])
	if f >= b.rbStart && f < b.rbStart+len(b.rbs) {
		if b.beginAt >= 0 {
			t.begun = false
		}
		return true, nil
	}
	if t != nil {
		if err := t.applyResults(b, f, ferr, r.n); err != nil {
			return false, err
		}
	}
	if b.finalAt < 0 || f != b.finalAt {
		return false, nil
	}
	if r.status == UnknownTx && fin.op == OpRollback {
		return false, nil // the guest had ended it already (after a driver panic)
	}
	return false, ferr
}

// applyResults updates t from the results of its BEGIN, its writes and its final operation.
func (t *clientTxn) applyResults(b *batch, f int, ferr error, n int) error {
	if b.beginAt >= 0 && f == b.beginAt {
		t.begun = false
		t.err = fmt.Errorf("begin: %w", ferr)
		return t.err
	}
	if b.finalAt >= 0 && n > b.finalAt && (b.ops[b.finalAt] == OpCommit || b.ops[b.finalAt] == OpRollback) {
		t.finished = true // COMMIT and ROLLBACK end it whatever their outcome
	}
	if f >= b.wStart && f < b.wEnd {
		t.err = fmt.Errorf("buffered %s (write %d of %d): %w", b.ops[f], f-b.wStart+1, b.wEnd-b.wStart, ferr)
		t.clearPending()
		return t.err
	}
	if n >= b.wEnd {
		t.clearPending()
	}
	return nil
}
