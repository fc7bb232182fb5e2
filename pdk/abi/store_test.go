package abi_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

// openClient returns a Client over a Loopback to a Dispatcher that opens drivers with open.
func openClient(t testing.TB, open abi.Opener, opts ...abi.ClientOption) (*abi.Client, *abi.Loopback) {
	t.Helper()
	l := abi.NewLoopback(open)
	d, err := abi.NewClient(context.Background(), l, abi.Hello{DSN: "mem"}, opts...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return d.(*abi.Client), l
}

// TestConformance runs the whole storetest suite through the ABI: pdk adapter -> Client ->
// frames -> Dispatcher -> inmem, with the default write budget and with a tiny one (every
// write flushed early), and through a guest driver without concurrent readers, checking the
// guest never sees a reader beside a writer although read rollbacks are queued.
func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      []abi.ClientOption
		exclusive bool
	}{
		{"default", nil, false},
		{"tiny-write-budget", []abi.ClientOption{abi.WithWriteBudget(64)}, false},
		{"no-concurrent-readers", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, storetest.Harness{
				Open: func(ctx context.Context, st storetest.T) (store.Store, error) {
					g := &gated{}
					open := abi.InmemOpener
					if tc.exclusive {
						open = g.open
					}
					d, err := abi.NewClient(ctx, abi.NewLoopback(open), abi.Hello{}, tc.opts...)
					if err != nil {
						return nil, err
					}
					st.Cleanup(func() {
						if v := g.violations(); len(v) > 0 {
							st.Errorf("the guest driver saw: %s", strings.Join(v, "; "))
						}
					})
					return pdk.NewStore(d), nil
				},
				Caps: storetest.Capabilities{ConcurrentReaders: !tc.exclusive},
			})
		})
	}
}

// gated is an inmem guest driver that declares no concurrent readers and records every
// time it is asked to open a transaction beside a writer, or a writer beside any.
type gated struct {
	mu               sync.Mutex
	readers, writers int
	seen             []string
}

func (g *gated) open(context.Context, abi.Hello) (pdk.Driver, error) {
	return &gatedDriver{Driver: inmem.NewDriver(), g: g}, nil
}

func (g *gated) violations() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.seen)
}

type gatedDriver struct {
	pdk.Driver
	g *gated
}

func (d *gatedDriver) Info() pdk.Info {
	info := d.Driver.Info()
	info.Caps.ConcurrentReaders = false
	return info
}

func (d *gatedDriver) Begin(ctx context.Context, writable bool) (pdk.Txn, error) {
	g := d.g
	g.mu.Lock()
	if g.writers > 0 || (writable && g.readers > 0) {
		g.seen = append(g.seen, fmt.Sprintf("BEGIN writable=%v beside %d readers and %d writers", writable, g.readers, g.writers))
	}
	if writable {
		g.writers++
	} else {
		g.readers++
	}
	g.mu.Unlock()
	tx, err := d.Driver.Begin(ctx, writable)
	return &gatedTxn{Txn: tx, g: g, writable: writable}, err
}

type gatedTxn struct {
	pdk.Txn
	g        *gated
	writable bool
}

func (t *gatedTxn) end() {
	t.g.mu.Lock()
	defer t.g.mu.Unlock()
	if t.writable {
		t.g.writers--
	} else {
		t.g.readers--
	}
}

func (t *gatedTxn) Commit(ctx context.Context) error { t.end(); return t.Txn.Commit(ctx) }
func (t *gatedTxn) Rollback() error                  { t.end(); return t.Txn.Rollback() }

// TestCrossings pins how many crossings each shape of transaction costs.
func TestCrossings(t *testing.T) {
	ctx := context.Background()
	c, _ := openClient(t, abi.InmemOpener)
	if got := c.Stats().RoundTrips; got != 1 {
		t.Fatalf("NewClient took %d crossings, want 1 (HELLO)", got)
	}
	s := pdk.NewStore(c)
	get := func(tx store.Tx) error { _, err := tx.Get("ns", "k0"); return err }
	for _, step := range []struct {
		name string
		want uint64
		run  func() error
	}{
		{"Update of 100 Puts", 1, func() error {
			return s.Update(ctx, func(tx store.Tx) error {
				for i := range 100 {
					if err := tx.Put("ns", fmt.Sprintf("k%d", i), []byte("v")); err != nil {
						return err
					}
				}
				return nil
			})
		}},
		{"View with one Get", 1, func() error { return s.View(ctx, get) }},
		{"View with one Get after a View (its ROLLBACK rides along)", 1, func() error { return s.View(ctx, get) }},
		{"View with two Gets", 2, func() error {
			return s.View(ctx, func(tx store.Tx) error {
				if err := get(tx); err != nil {
					return err
				}
				return get(tx)
			})
		}},
		{"Update with Get then Put", 2, func() error {
			return s.Update(ctx, func(tx store.Tx) error {
				if err := get(tx); err != nil {
					return err
				}
				return tx.Put("ns", "k0", []byte("w"))
			})
		}},
		{"Update with Put, Get, Put", 2, func() error {
			return s.Update(ctx, func(tx store.Tx) error {
				if err := tx.Put("ns", "a", []byte("1")); err != nil {
					return err
				}
				if v, err := tx.Get("ns", "a"); err != nil || string(v) != "1" {
					return fmt.Errorf("read-your-write: %q, %v", v, err)
				}
				return tx.Put("ns", "b", []byte("2"))
			})
		}},
		{"Update of a Delete", 1, func() error {
			return s.Update(ctx, func(tx store.Tx) error { return tx.Delete("ns", "b") })
		}},
		{"empty Update", 0, func() error { return s.Update(ctx, func(store.Tx) error { return nil }) }},
		{"empty View", 0, func() error { return s.View(ctx, func(store.Tx) error { return nil }) }},
		{"failed Update that only wrote", 0, func() error {
			err := s.Update(ctx, func(tx store.Tx) error {
				_ = tx.Put("ns", "never", []byte("x"))
				return errBoom
			})
			if err != errBoom {
				return fmt.Errorf("got %v, want errBoom", err)
			}
			return nil
		}},
		{"failed Update after a Get (its ROLLBACK is sent at once)", 2, func() error {
			err := s.Update(ctx, func(tx store.Tx) error {
				if err := get(tx); err != nil {
					return err
				}
				return errBoom
			})
			if err != errBoom {
				return fmt.Errorf("got %v, want errBoom", err)
			}
			return nil
		}},
		{"View with a Scan of one page", 1, func() error {
			return s.View(ctx, func(tx store.Tx) error {
				kvs, err := tx.Scan("ns", "k")
				if err == nil && len(kvs) != 100 {
					err = fmt.Errorf("scan found %d keys, want 100", len(kvs))
				}
				return err
			})
		}},
		{"Ping", 1, func() error { return s.Ping(ctx) }},
		{"Close", 1, func() error { return s.Close() }},
	} {
		before := c.Stats().RoundTrips
		if err := step.run(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if got := c.Stats().RoundTrips - before; got != step.want {
			t.Errorf("%s: %d crossings, want %d", step.name, got, step.want)
		}
	}
}

var errBoom = fmt.Errorf("boom")

// TestCrossingsWriteBudget checks that writes past the write budget are sent early, in full
// batches: 100 values of 200 000 bytes with the default 8 MiB budget go 41, 41 and 18.
func TestCrossingsWriteBudget(t *testing.T) {
	ctx := context.Background()
	c, _ := openClient(t, abi.InmemOpener)
	s := pdk.NewStore(c)
	defer s.Close()
	value := make([]byte, 200_000)
	before := c.Stats().RoundTrips
	err := s.Update(ctx, func(tx store.Tx) error {
		for i := range 100 {
			if err := tx.Put("ns", fmt.Sprintf("k%03d", i), value); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Stats().RoundTrips - before; got != 3 {
		t.Errorf("Update of 100 × 200 KB: %d crossings, want 3", got)
	}
	err = s.View(ctx, func(tx store.Tx) error {
		kvs, err := tx.Scan("ns", "")
		if err == nil && len(kvs) != 100 {
			err = fmt.Errorf("scan found %d keys, want 100", len(kvs))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
