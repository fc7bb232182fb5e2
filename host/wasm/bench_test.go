package wasm

import (
	"context"
	"testing"

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
			tr, err := newTransport(m, "")
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
