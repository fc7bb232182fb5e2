package storetest

import (
	"context"
	"errors"
	"sync"

	"github.com/dockyard/dockyard/store"
)

// ByDSN returns the Harness of a driver whose stores are named by a DSN (or by any string: a
// table, a key prefix): Open opens a store at a fresh DSN that dsn makes for the case, and,
// when caps declares Durable, Reopen opens again the DSN the closed store was opened at.
// Without it every durable driver's harness keeps the same map from each store it opened to
// its DSN, under a lock, for Reopen; this is that map, once. A store is remembered until its
// case ends. A Reopen of a store the harness did not open is an error.
//
// The stores open returns must be comparable (a pointer, as every pdk.NewStore store is): they
// are the map's keys.
func ByDSN(caps Capabilities, dsn func(t T) string, open func(ctx context.Context, dsn string) (store.Store, error)) Harness {
	var dsns sync.Map // store.Store -> the DSN it was opened at
	openAt := func(ctx context.Context, t T, at string) (store.Store, error) {
		s, err := open(ctx, at)
		if err != nil {
			return nil, err
		}
		dsns.Store(s, at)
		t.Cleanup(func() { dsns.Delete(s) })
		return s, nil
	}
	h := Harness{
		Open: func(ctx context.Context, t T) (store.Store, error) { return openAt(ctx, t, dsn(t)) },
		Caps: caps,
	}
	if caps.Durable {
		h.Reopen = func(ctx context.Context, t T, s store.Store) (store.Store, error) {
			at, ok := dsns.Load(s)
			if !ok {
				return nil, errors.New("storetest: Reopen of a store this harness did not open")
			}
			return openAt(ctx, t, at.(string))
		}
	}
	return h
}
