package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

// newHarness is the conformance harness for t: Open gives every store a fresh DSN made by
// newDSN, removed when the case ends; Reopen, for a durable driver, opens a store on the same
// DSN again. The capabilities are what the driver declares. Once ctx (the command's) is done,
// Open fails, so an interrupted conform ends its remaining cases quickly.
func newHarness(ctx context.Context, t *target, newDSN dsnMaker, caps pdk.Capabilities) storetest.Harness {
	cmdCtx := ctx
	var mu sync.Mutex
	dsns := map[store.Store]string{}
	openAt := func(ctx context.Context, dsn string) (store.Store, error) {
		s, err := t.open(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("open %s on %q: %w", t.Name, pdk.RedactDSN(dsn), err)
		}
		mu.Lock()
		dsns[s] = dsn
		mu.Unlock()
		return s, nil
	}
	h := storetest.Harness{
		Open: func(ctx context.Context, ct storetest.T) (store.Store, error) {
			if err := cmdCtx.Err(); err != nil {
				return nil, fmt.Errorf("conform interrupted: %w", err)
			}
			dsn, remove, err := newDSN()
			if err != nil {
				return nil, err
			}
			ct.Cleanup(remove)
			return openAt(ctx, dsn)
		},
		Caps: storetest.Capabilities{Durable: caps.Durable, ConcurrentReaders: caps.ConcurrentReaders},
	}
	if caps.Durable {
		h.Reopen = func(ctx context.Context, _ storetest.T, s store.Store) (store.Store, error) {
			mu.Lock()
			dsn, ok := dsns[s]
			mu.Unlock()
			if !ok {
				return nil, fmt.Errorf("reopen: the harness did not open this store")
			}
			return openAt(ctx, dsn)
		}
	}
	return h
}
