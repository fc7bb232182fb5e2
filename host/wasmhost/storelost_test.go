package wasmhost

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/store"
)

// lostEverywhere checks that every kind of call on s fails with store.ErrStoreLost saying why.
func lostEverywhere(t *testing.T, s store.Store, why string) {
	t.Helper()
	ctx := context.Background()
	for name, err := range map[string]error{
		"Get":        s.View(ctx, func(tx store.Tx) error { _, err := tx.Get("ns", "k"); return err }),
		"Namespaces": s.View(ctx, func(tx store.Tx) error { _, err := store.Namespaces(tx); return err }),
		"Update":     s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v2")) }),
		"Ping":       s.Ping(ctx),
	} {
		if !errors.Is(err, store.ErrStoreLost) || !strings.Contains(err.Error(), why) {
			t.Errorf("%s after the loss: %v; want store.ErrStoreLost saying %q", name, err, why)
		}
	}
}

// TestLostInstanceIsLoud: when a non-durable guest's instance is lost (a trap, an
// out-of-memory trap, an exit), every later call fails with store.ErrStoreLost naming what
// happened, instead of the store answering as if it had never held anything; a store
// opened anew works, and one opened WithAcceptLoss goes on, empty.
func TestLostInstanceIsLoud(t *testing.T) {
	for _, c := range []struct {
		verb, why string
		opts      []Option
	}{
		{"trap", "out of bounds memory access", nil},
		{"alloc", "out of memory", []Option{WithMemoryLimit(64 << 20)}},
		{"exit", "exited with code 3", nil},
	} {
		t.Run(c.verb, func(t *testing.T) {
			m := compileBuilt(t, hostileWasm, append([]Option{WithName("hostile")}, c.opts...)...)
			s := openStore(t, m, "")
			put(t, s, "ns", "k", "v")
			_, err := hostileGet(t, s, c.verb)
			if !errors.Is(err, abi.ErrBroken) || !errors.Is(err, store.ErrStoreLost) {
				t.Fatalf("the call that met the fault: %v; want abi.ErrBroken and store.ErrStoreLost", err)
			}
			lostEverywhere(t, s, c.why)
			if err := s.Close(); err != nil {
				t.Errorf("Close of a lost store: %v", err)
			}
			again := openStore(t, m, "")
			put(t, again, "ns", "k", "v")

			cache := openStore(t, compileBuilt(t, hostileWasm, append([]Option{WithName("hostile"), WithAcceptLoss()}, c.opts...)...), "")
			put(t, cache, "ns", "k", "v")
			if _, err := hostileGet(t, cache, c.verb); !errors.Is(err, abi.ErrBroken) || errors.Is(err, store.ErrStoreLost) {
				t.Fatalf("WithAcceptLoss: the call that met the fault: %v; want abi.ErrBroken only", err)
			}
			if _, err := get(t, cache, "ns", "k"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("WithAcceptLoss: Get after the loss: %v; want ErrNotFound from the fresh instance", err)
			}
			put(t, cache, "ns", "k", "v")
		})
	}
}

// TestGoGuestRefusesWritesNearItsMemoryLimit: the Go inmem guest, filled toward its memory
// limit, refuses the write that would not fit with an error saying so, instead of trapping
// (which would lose everything it held); what it had committed is all there, and it takes
// writes again once data is deleted.
func TestGoGuestRefusesWritesNearItsMemoryLimit(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		limit uint64
		value int
	}{{48 << 20, 1 << 20}, {48 << 20, 64 << 10}, {64 << 20, 4 << 20}} {
		t.Run(fmt.Sprintf("%dMiB-limit-%dKiB-values", c.limit>>20, c.value>>10), func(t *testing.T) {
			m := compileBuilt(t, inmemWasm, WithName("inmem"), WithMemoryLimit(c.limit))
			s := openStore(t, m, "")
			value := make([]byte, c.value)
			n := 0
			var err error
			for ; n < int(c.limit)/c.value*2; n++ {
				if err = s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", fmt.Sprint(n), value) }); err != nil {
					break
				}
			}
			switch {
			case err == nil:
				t.Fatalf("%d writes of %d bytes all fit in a %d-byte memory", n, c.value, c.limit)
			case errors.Is(err, abi.ErrBroken) || errors.Is(err, store.ErrStoreLost):
				t.Fatalf("after %d writes: %v; want the write refused, the instance kept", n, err)
			case !strings.Contains(err.Error(), "out of memory") || !strings.Contains(err.Error(), "memory limit"):
				t.Fatalf("after %d writes: %v; want an error saying the memory limit is reached", n, err)
			}
			t.Logf("refused after %d writes (%d MiB): %v", n, n*c.value>>20, err)
			if n*c.value < int(c.limit)/4 {
				t.Errorf("refused after only %d bytes of a %d-byte limit", n*c.value, c.limit)
			}
			if err := s.View(ctx, func(tx store.Tx) error {
				kvs, err := tx.Scan("ns", "")
				if err == nil && len(kvs) != n {
					err = fmt.Errorf("%d entries, want the %d committed", len(kvs), n)
				}
				return err
			}); err != nil {
				t.Fatalf("the data after the refusal: %v", err)
			}
			if err := s.Update(ctx, func(tx store.Tx) error {
				for i := range n / 2 {
					if err := tx.Delete("ns", fmt.Sprint(i)); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatalf("deleting half: %v", err)
			}
			if err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "again", value) }); err != nil {
				t.Fatalf("a write after deleting half: %v", err)
			}
		})
	}
}
