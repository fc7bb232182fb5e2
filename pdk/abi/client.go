package abi

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/semaphore"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// Bounds of the client's request frames.
const (
	// DefaultWriteBudget is how many bytes of encoded writes a transaction buffers before the
	// client sends them in a crossing of their own.
	DefaultWriteBudget = 8 << 20
	// DefaultMaxRequest is the largest request frame the client sends, unless the guest
	// declares a smaller MaxRequest.
	DefaultMaxRequest = 16 << 20

	// MinMaxRequest is the smallest maxRequest a guest may declare (0 declares none): room
	// for a transaction's BEGIN, one operation on a short key and its COMMIT.
	MinMaxRequest = 256
)

// ClientOption configures NewClient.
type ClientOption func(*clientConfig)

type clientConfig struct {
	writeBudget, maxRequest int
	acceptLoss              bool
	name                    string
}

// driverName is how errors name the driver.
func (c *Client) driverName() string {
	if c.name != "" {
		return c.name
	}
	return c.guest.Name
}

// WithDriverName names the driver in the client's errors: the name the host knows it by (a
// manifest's, say). By default errors use the name the guest declares in its HELLO answer,
// which a hostile guest chooses.
func WithDriverName(name string) ClientOption {
	return func(c *clientConfig) { c.name = name }
}

// WithWriteBudget sets how many bytes of encoded writes a transaction buffers before they
// are sent ahead of the read or commit that would carry them (default DefaultWriteBudget).
// The budget is at most half the largest request.
func WithWriteBudget(n int) ClientOption {
	return func(c *clientConfig) {
		if n > 0 {
			c.writeBudget = n
		}
	}
}

// WithMaxRequest sets the largest request frame the client sends (default DefaultMaxRequest;
// the guest's HelloReply.MaxRequest lowers it). An operation that cannot fit fails with an error
// wrapping store.ErrTooLarge.
func WithMaxRequest(n int) ClientOption {
	return func(c *clientConfig) {
		if n > 0 {
			c.maxRequest = n
		}
	}
}

// WithAcceptLoss says that the application accepts losing the data of a guest whose driver is
// not durable (a cache): when its instance is lost, the client opens a new session on the next
// instance and goes on, empty, instead of failing every later call with store.ErrStoreLost.
// It changes nothing for a durable guest, whose data survives its instances.
func WithAcceptLoss() ClientOption {
	return func(c *clientConfig) { c.acceptLoss = true }
}

// Stats counts what a Client did: the crossings, reopens and loss of pdk.TransportStats (the
// transports add their own fields).
type Stats = pdk.TransportStats

// Client is the host side of the ABI: a pdk.Driver that turns every call into operations in
// request frames sent through a RoundTripper. NewClient returns one. It keeps crossings few:
//
//   - Begin sends nothing; BEGIN travels with the transaction's first operation that needs
//     an answer (a Get, a Scan, a Commit with writes), or with an early flush of writes.
//   - Put and Delete are buffered (values copied) and sent, in order, before the next Get or
//     Scan of the transaction or with its COMMIT; a write the guest refuses is the error of
//     the call that carried it, and every later call of that transaction fails with it too.
//     Buffered writes past the write budget are sent early, in a crossing of their own.
//   - A transaction that never crossed ends with nothing sent. The ROLLBACK of a read
//     transaction that crossed is queued and sent at the front of the next batch, whichever
//     transaction it is for (so the guest ends the read before anything the batch starts);
//     the ROLLBACK of a writable one is sent at once, as it may hold the guest's write lock.
//
// So a View with one Get is one crossing, and so is an Update that only writes.
//
// Crossings happen one at a time, in the order their batches were built: the guest serves one
// call at a time anyway, and the order is what makes the queued rollbacks safe. If the
// RoundTripper reports ErrBroken, or the guest's answers show it lost the session, every
// transaction that reached the guest fails from then on with an error saying why, and the next
// batch starts with the same HELLO again (counted in Stats.Reopens). Unless the guest declared
// FlagDurable or the client was made WithAcceptLoss, there is no next batch: the guest's data
// went with its session, so the store is lost and every later call fails with an error
// wrapping store.ErrStoreLost that says what happened, rather than going on empty.
type Client struct {
	rt          RoundTripper
	hello       Hello
	guest       HelloReply // the answer to the first HELLO
	info        pdk.Info
	writeBudget int
	maxRequest  int
	acceptLoss  bool
	name        string // of the driver in errors: WithDriverName, else the guest's declared name
	roundTrips  atomic.Uint64
	reopens     atomic.Uint64

	// turn is the crossing lock: held while a batch is built, sent, and its response applied.
	// A semaphore of one rather than a channel: taking it may wait honouring a context, and an
	// uncontended take and release cost two mutex operations, not two channel operations (each
	// of which takes the runtime's lock of the channel).
	turn *semaphore.Weighted
	// Guarded by turn.
	needHello bool
	opened    bool
	req       []byte
	ops       []Op
	rbs       []*clientTxn

	mu     sync.Mutex
	closed bool
	gone   error // wraps store.ErrStoreLost once a non-durable guest's session was lost
	nextID uint32
	live   idTable[*clientTxn] // transactions the guest may hold open, by id
	queue  []*clientTxn        // read transactions to roll back with the next batch
	// spare and spareOps are the write buffers of the last writable transaction that ended,
	// for the next one to reuse.
	spare    []byte
	spareOps []Op
}

// NewClient does the HELLO handshake through rt and returns the host-side pdk.Driver, a
// *Client. It fills in hello's Major and Minor. A guest of another ABI major is refused with
// an error wrapping ErrIncompatible that names both versions.
func NewClient(ctx context.Context, rt RoundTripper, hello Hello, opts ...ClientOption) (pdk.Driver, error) {
	cfg := clientConfig{writeBudget: DefaultWriteBudget, maxRequest: DefaultMaxRequest}
	for _, o := range opts {
		o(&cfg)
	}
	hello.Major, hello.Minor = Major, Minor
	hello.Options = slices.Clone(hello.Options)
	c := &Client{
		rt: rt, hello: hello, maxRequest: cfg.maxRequest, needHello: true, acceptLoss: cfg.acceptLoss,
		turn: semaphore.NewWeighted(1), name: cfg.name,
	}
	if err := c.cross(ctx, nil, nil, nil); err != nil {
		return nil, err
	}
	g := c.guest
	if g.MaxRequest > 0 && g.MaxRequest < MinMaxRequest {
		c.Close()
		return nil, fmt.Errorf("%w: driver %q declares maxRequest %d in its HELLO answer, below the ABI's minimum of %d bytes: it could take no ordinary request",
			ErrProtocol, c.driverName(), g.MaxRequest, MinMaxRequest)
	}
	if g.MaxRequest > 0 && int64(g.MaxRequest) < int64(c.maxRequest) {
		c.maxRequest = int(g.MaxRequest)
	}
	c.writeBudget = max(1, min(cfg.writeBudget, c.maxRequest/2))
	c.info = pdk.Info{Name: g.Name, Version: g.Version, Caps: pdk.Capabilities{
		Durable:           g.Flags&FlagDurable != 0,
		ConcurrentReaders: g.Flags&FlagConcurrentReaders != 0,
		MaxKeySize:        int(g.MaxKeySize),
		MaxValueSize:      int(g.MaxValueSize),
		MaxNamespaceSize:  int(g.MaxNamespaceSize),
	}}
	return c, nil
}

// Guest describes the guest's driver, as its answer to the first HELLO did.
func (c *Client) Info() pdk.Info { return c.info }

// Guest returns the guest's answer to the first HELLO, ABI version included.
func (c *Client) Guest() HelloReply { return c.guest }

// Stats returns what the client has done so far.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	lost := c.gone != nil
	c.mu.Unlock()
	return Stats{RoundTrips: c.roundTrips.Load(), Reopens: c.reopens.Load(), Lost: lost}
}

// TransportStats implements pdk.StatsReporter.
func (c *Client) TransportStats() (pdk.TransportStats, bool) { return c.Stats(), true }

// Begin returns a transaction handle. Nothing crosses until the transaction needs an answer.
func (c *Client) Begin(ctx context.Context, writable bool) (pdk.Txn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, store.ErrClosed
	}
	if c.gone != nil {
		return nil, c.gone
	}
	for {
		c.nextID++ // ids wrap around, skipping 0 and those the guest may still hold
		if c.nextID != 0 && c.live.pos(c.nextID) < 0 {
			break
		}
	}
	t := &clientTxn{c: c, id: c.nextID, writable: writable}
	if writable {
		t.pending, t.pendingOps = c.spare, c.spareOps
		c.spare, c.spareOps = nil, nil
	}
	c.live.add(t.id, t)
	return t, nil
}

// Ping sends PING, with the queued rollbacks.
func (c *Client) Ping(ctx context.Context) error {
	return c.cross(ctx, nil, &final{op: OpPing}, nil)
}

// Close sends the queued rollbacks and CLOSE, unless the session was lost (then there is
// nothing to close). Every later call fails with store.ErrClosed; Close itself is idempotent.
func (c *Client) Close() error {
	_ = c.turn.Acquire(context.Background(), 1) // fails only when its context ends
	defer c.turn.Release(1)
	c.mu.Lock()
	closed := c.closed
	c.closed = true
	c.mu.Unlock()
	if closed || c.needHello {
		return nil
	}
	err := c.crossLocked(context.Background(), nil, &final{op: OpClose}, false, nil)
	c.needHello = true
	return err
}

// final is the operation that ends a batch and whose answer the caller wants.
type final struct {
	op                     Op
	ns, key, prefix, after string
	limit                  uint32
}

func (f *final) append(e *Encoder, tx uint32) {
	switch f.op {
	case OpGet:
		e.AppendGet(tx, f.ns, f.key)
	case OpScan:
		e.AppendScan(tx, f.ns, f.prefix, f.after, f.limit)
	case OpCommit:
		e.AppendCommit(tx)
	case OpRollback:
		e.AppendRollback(tx)
	case OpPing:
		e.AppendPing()
	case OpClose:
		e.AppendClose()
	}
}

// cross takes the crossing lock (honouring ctx) and sends one batch; see crossLocked.
func (c *Client) cross(ctx context.Context, t *clientTxn, fin *final, r *response) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !c.turn.TryAcquire(1) { // the usual case: nobody is crossing
		if err := c.turn.Acquire(ctx, 1); err != nil {
			return err
		}
	}
	defer c.turn.Release(1)
	return c.crossLocked(ctx, t, fin, true, r)
}

// takeQueue moves the queued rollbacks into c.rbs, dropping those of lost transactions. With
// check, it first refuses, taking nothing, if the client is closed or t was lost.
func (c *Client) takeQueue(t *clientTxn, check bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if check {
		switch {
		case c.closed:
			return store.ErrClosed
		case c.gone != nil:
			return c.gone
		case t != nil && t.lost != nil:
			return t.lost
		}
	}
	c.rbs = c.rbs[:0]
	for _, t := range c.queue {
		if t.lost != nil {
			c.live.removeIf(t.id, t)
			continue
		}
		c.rbs = append(c.rbs, t)
	}
	clear(c.queue)
	c.queue = c.queue[:0]
	return nil
}

// settle forgets the transactions whose queued rollbacks the guest executed, and puts those it
// did not reach back at the front of the queue.
func (c *Client) settle(done, rest []*clientTxn) {
	if len(done) == 0 && len(rest) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range done {
		c.live.removeIf(t.id, t)
	}
	if len(rest) > 0 {
		c.queue = append(slices.Clone(rest), c.queue...)
	}
}

// requeue puts rollbacks that did not reach the guest back at the front of the queue.
func (c *Client) requeue(rbs []*clientTxn) {
	if len(rbs) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queue = append(slices.Clone(rbs), c.queue...)
}

// lose records that the guest no longer holds the session: every transaction that reached it
// is lost with cause, and the next batch starts with HELLO. If the guest is not durable and
// loss was not accepted, its data is gone with the session: the store is lost, and lose
// returns the error every later call gets, which wraps store.ErrStoreLost and cause; else it
// returns cause.
func (c *Client) lose(cause error) error {
	c.needHello = true
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone == nil && c.opened && !c.acceptLoss && c.guest.Flags&FlagDurable == 0 {
		c.gone = fmt.Errorf("%w: driver %q is not durable, so its data went with its session: %w", store.ErrStoreLost, c.driverName(), cause)
	}
	if c.gone != nil {
		cause = c.gone
	}
	for _, t := range c.live.vals {
		if t.begun && t.lost == nil {
			t.lost = fmt.Errorf("abi: transaction lost: %w", cause)
		}
	}
	return cause
}

// lostErr returns the error for a call of t (nil for a call of no transaction) after the
// session was lost with cause.
func (c *Client) lostErr(t *clientTxn, cause error) error {
	if t != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		if t.lost != nil {
			return t.lost
		}
	}
	return fmt.Errorf("abi: %w", cause)
}
