package abi

import (
	"context"
	"fmt"
	"math"

	"github.com/dockyard/dockyard/store"
)

// clientTxn is the pdk.Txn the Client hands out. Its fields are used by one goroutine at a
// time (the pdk contract), except lost, which is guarded by the client's mu.
type clientTxn struct {
	c        *Client
	id       uint32
	writable bool

	begun    bool // BEGIN was sent: the guest may hold the transaction open
	finished bool // the guest ended it (COMMIT or ROLLBACK executed)
	ended    bool // Commit or Rollback was called
	err      error
	lost     error // guarded by c.mu: the session holding it was lost

	pending    []byte // encoded PUT and DELETE operations not yet sent
	pendingOps []Op
}

// usable reports why t may not take another operation.
func (t *clientTxn) usable() error {
	if t.ended {
		return fmt.Errorf("abi: transaction %d used after Commit or Rollback: %w", t.id, store.ErrTxDone)
	}
	return t.err
}

func (t *clientTxn) clearPending() {
	t.pending, t.pendingOps = t.pending[:0], t.pendingOps[:0]
}

// Get sends the buffered writes and GET, and returns the value, or store.ErrNotFound.
func (t *clientTxn) Get(ctx context.Context, ns, key string) ([]byte, error) {
	if err := t.usable(); err != nil {
		return nil, err
	}
	var r response
	err := t.c.cross(ctx, t, &final{op: OpGet, ns: ns, key: key}, &r)
	switch {
	case err != nil:
		return nil, err
	case r.status == NotFound:
		return nil, store.ErrNotFound
	}
	return r.value, nil
}

// Put buffers a PUT, copying value.
func (t *clientTxn) Put(ctx context.Context, ns, key string, value []byte) error {
	if err := t.buffer(ctx, sizePutOp+len(ns)+len(key)+len(value)); err != nil {
		return err
	}
	e := Encoder{buf: t.pending}
	e.AppendPut(t.id, ns, key, value)
	t.pending, t.pendingOps = e.Bytes(), append(t.pendingOps, OpPut)
	return nil
}

// Delete buffers a DELETE.
func (t *clientTxn) Delete(ctx context.Context, ns, key string) error {
	if err := t.buffer(ctx, sizeKeyOp+len(ns)+len(key)); err != nil {
		return err
	}
	e := Encoder{buf: t.pending}
	e.AppendDelete(t.id, ns, key)
	t.pending, t.pendingOps = e.Bytes(), append(t.pendingOps, OpDelete)
	return nil
}

// buffer makes room for a write of size encoded bytes: it refuses one that no request could
// carry, and sends the buffered writes first if this one would take them past the budget.
func (t *clientTxn) buffer(ctx context.Context, size int) error {
	if err := t.usable(); err != nil {
		return err
	}
	if HeaderSize+sizeBegin+size > t.c.maxRequest {
		return fmt.Errorf("%w: a write of %d encoded bytes cannot fit in a request of at most %d bytes", store.ErrTooLarge, size, t.c.maxRequest)
	}
	if len(t.pending) == 0 || len(t.pending)+size <= t.c.writeBudget {
		return nil
	}
	return t.c.cross(ctx, t, nil, nil)
}

// Scan sends the buffered writes and SCAN, and returns the page.
func (t *clientTxn) Scan(ctx context.Context, ns, prefix, after string, limit int) ([]store.KeyValue, bool, error) {
	if err := t.usable(); err != nil {
		return nil, false, err
	}
	n := uint32(1) // the pdk contract promises limit > 0; a u32 carries it
	if limit > 0 {
		n = uint32(min(uint64(limit), math.MaxUint32))
	}
	var r response
	if err := t.c.cross(ctx, t, &final{op: OpScan, ns: ns, prefix: prefix, after: after, limit: n}, &r); err != nil {
		return nil, false, err
	}
	return r.page, r.more, nil
}

// Commit sends BEGIN (if the transaction never crossed), the buffered writes and COMMIT in
// one batch; a transaction with nothing to send commits without crossing. If the commit
// fails before the guest ended the transaction, it is rolled back.
func (t *clientTxn) Commit(ctx context.Context) error {
	if err := t.usable(); err != nil {
		if !t.ended {
			t.ended = true
			_ = t.rollbackNow()
			t.c.release(t)
		}
		return err
	}
	t.ended = true
	defer t.c.release(t)
	if !t.begun && len(t.pendingOps) == 0 {
		return nil
	}
	err := t.c.cross(ctx, t, &final{op: OpCommit}, nil)
	if err != nil && t.begun && !t.finished {
		_ = t.rollbackNow()
	}
	return err
}

// Rollback discards the buffered writes and ends the transaction: nothing is sent if it never
// crossed, a read transaction's ROLLBACK goes with the next batch, a writable one's at once.
// A transaction lost with its guest instance rolls back without error.
func (t *clientTxn) Rollback() error {
	if t.ended {
		return nil
	}
	t.ended = true
	if t.begun && !t.finished && !t.writable {
		t.clearPending()
		t.c.enqueueRead(t)
		return nil
	}
	err := t.rollbackNow()
	t.c.release(t)
	if t.c.isLost(t) {
		return nil
	}
	return err
}

// rollbackNow ends t in the guest, if it may hold it.
func (t *clientTxn) rollbackNow() error {
	t.clearPending()
	switch {
	case !t.begun || t.finished:
		return nil
	case !t.writable:
		t.c.enqueueRead(t)
		return nil
	}
	return t.c.cross(context.Background(), t, &final{op: OpRollback}, nil)
}

// enqueueRead queues the ROLLBACK of the read transaction t, which crossed, for the next batch;
// a transaction lost with its session is forgotten instead.
func (c *Client) enqueueRead(t *clientTxn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.lost == nil {
		c.queue = append(c.queue, t)
	} else {
		c.live.removeIf(t.id, t)
	}
}

// release forgets t unless the guest may still hold it (a queued rollback forgets it once
// sent; a rollback that never reached the guest leaves its id unused for good), and keeps its
// write buffers for the next writable transaction.
func (c *Client) release(t *clientTxn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.writable && cap(t.pending) <= shrinkAbove {
		c.spare, c.spareOps = t.pending[:0], t.pendingOps[:0]
	}
	t.pending, t.pendingOps = nil, nil
	if !t.begun || t.finished || t.lost != nil {
		c.live.removeIf(t.id, t)
	}
}

// isLost reports whether t was lost with its guest session.
func (c *Client) isLost(t *clientTxn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return t.lost != nil
}
