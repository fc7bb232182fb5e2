package postgres

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// pingAfter is how long a connection may sit idle before it is pinged when taken from the
// pool: a connection idle across a server restart is dead, and one round trip finds out
// before a transaction is begun on it.
const pingAfter = time.Second

// closeTimeout bounds closing a connection and rolling back a transaction.
const closeTimeout = 10 * time.Second

// pool is a small pool of pgx connections, at most max at a time, made on demand. (pgxpool
// would do, but needs github.com/jackc/puddle/v2, which is not among the module's
// dependencies; this is the part of it the driver uses.) A connection that broke, or was
// given back inside a transaction, is closed instead of pooled, so the next use dials a new
// one: that is how a store recovers once a restarted server is back.
type pool struct {
	cfg   *pgx.ConnConfig
	slots chan struct{} // one token per connection out of the pool

	mu     sync.Mutex
	idle   []idleConn // most recently used last
	closed bool
}

type idleConn struct {
	c     *pgx.Conn
	since time.Time
}

var errPoolClosed = errors.New("connection pool closed")

func newPool(cfg *pgx.ConnConfig, max int) *pool {
	return &pool{cfg: cfg, slots: make(chan struct{}, max)}
}

// get returns a connection, waiting (as long as ctx allows) while max are out.
func (p *pool) get(ctx context.Context) (*pgx.Conn, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	c, err := p.take(ctx)
	if err != nil {
		<-p.slots
		return nil, err
	}
	return c, nil
}

// tryGet is get without waiting: when max connections are out it dials one outside the pool
// (pooled is false), which the caller closes.
func (p *pool) tryGet(ctx context.Context) (c *pgx.Conn, pooled bool, err error) {
	select {
	case p.slots <- struct{}{}:
		c, err = p.take(ctx)
		if err != nil {
			<-p.slots
			return nil, false, err
		}
		return c, true, nil
	default:
		c, err = pgx.ConnectConfig(ctx, p.cfg)
		return c, false, err
	}
}

// take returns an idle connection that works, or a new one; the caller holds a slot.
func (p *pool) take(ctx context.Context) (*pgx.Conn, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, errPoolClosed
		}
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			return pgx.ConnectConfig(ctx, p.cfg)
		}
		ic := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		if time.Since(ic.since) < pingAfter {
			return ic.c, nil
		}
		err := ic.c.Ping(ctx)
		if err == nil {
			return ic.c, nil
		}
		discard(ic.c, err)
		if ctx.Err() != nil {
			return nil, err
		}
	}
}

// put gives c back, or closes it if it is broken or not idle (inside a transaction, or with
// results unread).
func (p *pool) put(c *pgx.Conn) {
	defer func() { <-p.slots }()
	if c.IsClosed() {
		return
	}
	if pc := c.PgConn(); pc.IsBusy() || pc.TxStatus() != 'I' {
		discard(c, errors.New("connection given back inside a transaction"))
		return
	}
	p.mu.Lock()
	if !p.closed {
		p.idle = append(p.idle, idleConn{c: c, since: time.Now()})
		c = nil
	}
	p.mu.Unlock()
	if c != nil {
		closeConn(c)
	}
}

// close closes the idle connections; connections out of the pool are closed when given back.
func (p *pool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, ic := range idle {
		closeConn(ic.c)
	}
}

// discard closes a connection that failed with why.
func discard(c *pgx.Conn, why error) {
	slog.Debug("postgres: discarding a connection", "err", why)
	closeConn(c)
}

func closeConn(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	_ = c.Close(ctx)
}
