//go:build unix

package pluginhost

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/store"
)

// TestKilledPluginStoreIsLost: a non-durable plugin (inmem) killed, while idle or in a call,
// takes its data with it: every later call on the store fails with store.ErrStoreLost saying
// so, where the store used to answer ErrNotFound for acknowledged keys. A store opened anew
// works; one opened WithAcceptLoss goes on, empty, in a new process.
func TestKilledPluginStoreIsLost(t *testing.T) {
	ctx := context.Background()
	bin := binary(t, "inmem")
	get := func(s store.Store) error {
		return s.View(ctx, func(tx store.Tx) error { _, err := tx.Get("ns", "k"); return err })
	}
	putV := func(s store.Store) error {
		return s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v")) })
	}
	open := func(opts ...Option) store.Store {
		s, err := Open(ctx, bin, "", append([]Option{WithName("inmem"), quiet}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := putV(s); err != nil {
			t.Fatal(err)
		}
		return s
	}

	s := open()
	kill9(t, pidOf(t, s)) // idle: no call in flight
	for name, err := range map[string]error{
		"Get":        get(s),
		"Namespaces": s.View(ctx, func(tx store.Tx) error { _, err := store.Namespaces(tx); return err }),
		"Update":     putV(s),
		"Ping":       s.Ping(ctx),
	} {
		if !errors.Is(err, store.ErrStoreLost) || !strings.Contains(err.Error(), `driver "inmem" is not durable`) {
			t.Errorf("%s after the idle plugin was killed: %v; want store.ErrStoreLost", name, err)
		}
	}
	if err := get(s); errors.Is(err, store.ErrCommitUnknown) {
		t.Errorf("a lost store's Get says a commit is unknown: %v", err)
	}
	if n := statsOf(t, s).Starts; n != 1 {
		t.Errorf("%d plugin processes started; a lost store starts no other", n)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close of a lost store: %v", err)
	}

	again := open()
	if err := get(again); err != nil {
		t.Fatalf("a store opened anew: %v", err)
	}

	cache := open(WithAcceptLoss())
	kill9(t, pidOf(t, cache))
	// The first call may meet the dying process (ErrBroken) or find it dead and go to a new
	// one; either way it is no ErrStoreLost, and the next call reaches a new process.
	if err := get(cache); errors.Is(err, store.ErrStoreLost) {
		t.Fatalf("WithAcceptLoss: Get after the kill: %v", err)
	}
	if err := get(cache); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("WithAcceptLoss: Get after the kill: %v; want ErrNotFound from a new process", err)
	}
	if err := putV(cache); err != nil {
		t.Fatalf("WithAcceptLoss: Put after the kill: %v", err)
	}
}
