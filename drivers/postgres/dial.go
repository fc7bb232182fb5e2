package postgres

import (
	"context"
	"net"

	"github.com/jackc/pgx/v5"
)

// netHooks are the store's own ways to dial and resolve, set by WithDialFunc and
// WithLookupFunc: behind a pointer, so that Options stays comparable.
type netHooks struct {
	dial   func(ctx context.Context, network, addr string) (net.Conn, error)
	lookup func(ctx context.Context, host string) ([]string, error)
}

// apply sets h's hooks in cfg; a nil h or hook leaves pgx's default.
func (h *netHooks) apply(cfg *pgx.ConnConfig) {
	if h == nil {
		return
	}
	if h.dial != nil {
		cfg.DialFunc = h.dial
	}
	if h.lookup != nil {
		cfg.LookupFunc = h.lookup
	}
}

// hooks returns c's netHooks, a copy of its own to change.
func (c *Options) hooks() *netHooks {
	h := &netHooks{}
	if c.net != nil {
		*h = *c.net
	}
	c.net = h
	return h
}

// WithDialFunc makes the store open its connections with dial instead of the operating
// system's network (pgx's ConnConfig.DialFunc). A driver compiled to WebAssembly gives it
// pdk/wasmnet.Dial, with WithLookupFunc(wasmnet.LookupHost), so that the host resolves and
// dials the server its sandbox lists. It is not a manifest option; WithOptions after it
// replaces it (give WithOptions first). nil is pgx's default.
func WithDialFunc(dial func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(c *Options) { c.hooks().dial = dial }
}

// WithLookupFunc sets how the store resolves the server's host name (pgx's
// ConnConfig.LookupFunc); see WithDialFunc. nil is pgx's default.
func WithLookupFunc(lookup func(ctx context.Context, host string) ([]string, error)) Option {
	return func(c *Options) { c.hooks().lookup = lookup }
}
