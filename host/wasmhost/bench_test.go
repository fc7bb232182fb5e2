package wasmhost

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/store"
)

// BenchmarkRoundTrip measures one crossing of the transport into a hand-made module that echoes
// a 64-byte frame: the cost of the transport itself, with and without the deadline.
func BenchmarkRoundTrip(b *testing.B) {
	for _, mode := range []struct {
		name string
		opts []Option
	}{{"deadline", nil}, {"trusted", []Option{WithTrusted()}}} {
		b.Run(mode.name, func(b *testing.B) {
			m, err := Compile(context.Background(), binding(1, nil, nil).bytes(), append(mode.opts, WithCacheDir(""))...)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close(context.Background())
			tr, err := newTransport(m, "", false)
			if err != nil {
				b.Fatal(err)
			}
			defer tr.close()
			req := make([]byte, 64)
			ctx := context.Background()
			for b.Loop() {
				if _, err := tr.RoundTrip(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGet measures a View with one Get against plugins/inmem in wasm (one crossing, the
// Go guest's dispatcher and driver included), with and without the deadline.
func BenchmarkGet(b *testing.B) {
	for _, mode := range []struct {
		name string
		opts []Option
	}{{"deadline", nil}, {"trusted", []Option{WithTrusted()}}} {
		b.Run(mode.name, func(b *testing.B) {
			m := compileBuilt(b, inmemWasm, mode.opts...)
			ctx := context.Background()
			s, err := m.Open(ctx, "")
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "key", []byte("value")) }); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := s.View(ctx, func(tx store.Tx) error {
					_, err := tx.Get("ns", "key")
					return err
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// storeLayout mirrors the bench package's layout: 10,000 keys of 100-byte values in one
// namespace, read and written at random keys.
const (
	benchNS    = "bench"
	benchKeys  = 10000
	benchValue = 100
	benchRing  = 1 << 14
)

func benchKey(i int) string { return fmt.Sprintf("g%02d/%06d", i/1000, i) }

// benchRandomKeys returns the same sequence of random existing keys on every run.
func benchRandomKeys() []string {
	rng := rand.New(rand.NewPCG(1, 2))
	ks := make([]string, benchRing)
	for i := range ks {
		ks[i] = benchKey(rng.IntN(benchKeys))
	}
	return ks
}

// benchStores runs body against a loaded in-process inmem store (the baseline) and against
// plugins/inmem in wasm, with and without the deadline, in the same run.
func benchStores(b *testing.B, body func(b *testing.B, s store.Store)) {
	for _, mode := range []string{"inprocess", "trusted", "deadline"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			var s store.Store
			switch mode {
			case "inprocess":
				s = inmem.Open()
			default:
				var opts []Option
				if mode == "trusted" {
					opts = append(opts, WithTrusted())
				}
				m := compileBuilt(b, inmemWasm, opts...)
				var err error
				if s, err = m.Open(ctx, ""); err != nil {
					b.Fatal(err)
				}
			}
			defer s.Close()
			value := make([]byte, benchValue)
			if err := s.Update(ctx, func(tx store.Tx) error {
				for i := range benchKeys {
					if err := tx.Put(benchNS, benchKey(i), value); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			body(b, s)
		})
	}
}

// BenchmarkStoreGet is one Get of a random key in a View, on 10,000 keys.
func BenchmarkStoreGet(b *testing.B) {
	keys := benchRandomKeys()
	benchStores(b, func(b *testing.B, s store.Store) {
		ctx := context.Background()
		i := 0
		for b.Loop() {
			if err := s.View(ctx, func(tx store.Tx) error {
				_, err := tx.Get(benchNS, keys[i&(benchRing-1)])
				return err
			}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkStoreUpdate100 is 100 Puts of random keys in one Update (one crossing), on 10,000
// keys.
func BenchmarkStoreUpdate100(b *testing.B) {
	keys := benchRandomKeys()
	benchStores(b, func(b *testing.B, s store.Store) {
		ctx := context.Background()
		value := make([]byte, benchValue)
		off := 0
		for b.Loop() {
			if off+100 > len(keys) {
				off = 0
			}
			batch := keys[off : off+100]
			if err := s.Update(ctx, func(tx store.Tx) error {
				for _, k := range batch {
					if err := tx.Put(benchNS, k, value); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			off += 100
		}
	})
}
