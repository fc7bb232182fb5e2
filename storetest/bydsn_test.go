package storetest_test

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

// kept is an inmem driver that outlives its store's Close, so a store reopened at the same DSN
// reads the same data: a durable driver for ByDSN to prove its Reopen on.
type kept struct{ pdk.Driver }

func (kept) Close() error { return nil }

// TestByDSN runs the whole suite, durability cases included, through ByDSN's harness.
func TestByDSN(t *testing.T) {
	var (
		mu      sync.Mutex
		n       int
		drivers = map[string]pdk.Driver{}
	)
	fresh := func(storetest.T) string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return "store-" + strconv.Itoa(n)
	}
	open := func(_ context.Context, dsn string) (store.Store, error) {
		mu.Lock()
		defer mu.Unlock()
		d, ok := drivers[dsn]
		if !ok {
			d = kept{inmem.NewDriver()}
			drivers[dsn] = d
		}
		return pdk.NewStore(d), nil
	}
	storetest.Run(t, storetest.ByDSN(storetest.Capabilities{Durable: true, ConcurrentReaders: true}, fresh, open))
}

// TestByDSNReopen: no Reopen without durability, and a Reopen of a store another harness
// opened is an error, not a fresh store.
func TestByDSNReopen(t *testing.T) {
	open := func(context.Context, string) (store.Store, error) { return inmem.Open(), nil }
	fresh := func(storetest.T) string { return "" }
	if h := storetest.ByDSN(storetest.Capabilities{}, fresh, open); h.Reopen != nil {
		t.Fatal("a harness of a driver that is not durable has a Reopen")
	}
	h := storetest.ByDSN(storetest.Capabilities{Durable: true}, fresh, open)
	stranger := inmem.Open()
	defer stranger.Close()
	if s, err := h.Reopen(t.Context(), t, stranger); err == nil {
		s.Close()
		t.Fatal("Reopen of a store the harness did not open succeeded")
	}
}
