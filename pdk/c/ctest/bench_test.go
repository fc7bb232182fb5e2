package ctest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/host/wasmhost"
	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/store"
)

// benchKeys is the number of keys every benchmark store starts with (100-byte values).
const benchKeys = 10_000

func benchKey(i int) string { return fmt.Sprintf("key%06d", i) }

// benchStores opens, side by side in one run, the stores the C driver is compared with: the C
// driver in wasm, the Go inmem driver compiled to wasm (plugins/inmem), and drivers/inmem
// in-process; the wasm ones in the default sandbox and trusted.
func benchStores(b *testing.B) []struct {
	name string
	s    store.Store
} {
	ctx := context.Background()
	goPath, err := artifactbuild.Build("../../../plugins/inmem")
	if err != nil {
		b.Fatal(err)
	}
	goWasm, err := os.ReadFile(goPath)
	if err != nil {
		b.Fatal(err)
	}
	var out []struct {
		name string
		s    store.Store
	}
	add := func(name string, s store.Store, err error) {
		if err != nil {
			b.Fatalf("open %s: %v", name, err)
		}
		b.Cleanup(func() { s.Close() })
		value := bytes.Repeat([]byte("v"), 100)
		if err := s.Update(ctx, func(tx store.Tx) error {
			for i := range benchKeys {
				if err := tx.Put("bench", benchKey(i), value); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatalf("load %s: %v", name, err)
		}
		out = append(out, struct {
			name string
			s    store.Store
		}{name, s})
	}
	add("inmem", inmem.Open(), nil)
	for _, mode := range []struct {
		suffix string
		opts   []wasmhost.Option
	}{{"", nil}, {"-trusted", []wasmhost.Option{wasmhost.WithTrusted()}}} {
		s, err := compileWasm(b, goWasm, "inmem", mode.opts...).Open(ctx, "")
		add("wasm-inmem"+mode.suffix, s, err)
		s, err = cinmemC.compile(b, "cinmem", mode.opts...).Open(ctx, "")
		add("wasm-c"+mode.suffix, s, err)
	}
	return out
}

// BenchmarkGetInView is one Get of a random existing key in one View.
func BenchmarkGetInView(b *testing.B) {
	ctx := context.Background()
	for _, st := range benchStores(b) {
		b.Run(st.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			for b.Loop() {
				key := benchKey(rng.IntN(benchKeys))
				if err := st.s.View(ctx, func(tx store.Tx) error {
					_, err := tx.Get("bench", key)
					return err
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUpdate100Puts is 100 Puts of random keys in one Update.
func BenchmarkUpdate100Puts(b *testing.B) {
	ctx := context.Background()
	value := bytes.Repeat([]byte("w"), 100)
	for _, st := range benchStores(b) {
		b.Run(st.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(3, 4))
			b.ReportAllocs()
			for b.Loop() {
				if err := st.s.Update(ctx, func(tx store.Tx) error {
					for range 100 {
						if err := tx.Put("bench", benchKey(rng.IntN(benchKeys)), value); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
