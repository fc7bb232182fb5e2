package bench

import (
	"bytes"
	"context"
	"fmt"
	"testing"
)

// scaleValueSize is the size of the values of BenchmarkPutInUpdateScale: small, so that a
// million keys fit a Go guest in its default sandbox (256 MiB of memory, of which the guest
// admits writes up to five eighths; see pdk/wasmguest).
const scaleValueSize = 32

// scaleSizes are the store sizes BenchmarkPutInUpdateScale compares.
var scaleSizes = []struct {
	name string
	l    layout
}{
	{"100k", layout{groups: 100, perGroup: 1000}},
	{"1M", layout{groups: 100, perGroup: 10000}},
}

// BenchmarkPutInUpdateScale is BenchmarkPutInUpdate (one Put overwriting a random key inside
// one write transaction) on stores of 100,000 and 1,000,000 keys with 32-byte values, for the
// in-process inmem driver and for plugins/inmem in the default wasm sandbox: the 1M / 100k
// ratio of each says how its writes scale with the store (internal/benchratio prints it).
// Sub-benchmarks are named implementation/size: inmem/100k, inmem/1M, wasm-inmem/100k,
// wasm-inmem/1M. Loading (10,000 Puts per Update) is not timed.
func BenchmarkPutInUpdateScale(b *testing.B) {
	ctx := context.Background()
	value := bytes.Repeat([]byte{'s'}, scaleValueSize)
	for _, name := range []string{"inmem", implWasm} {
		for _, size := range scaleSizes {
			b.Run(name+"/"+size.name, func(b *testing.B) {
				im := openImpl(b, name)
				if err := loadScale(ctx, im, size.l); err != nil {
					b.Fatalf("load %s with %d keys: %v", name, size.l.n(), err)
				}
				keys := randomKeys(size.l, keyRing)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if err := im.put(ctx, keys[i&(keyRing-1)], value); err != nil {
						b.Fatalf("put: %v", err)
					}
					i++
				}
			})
		}
	}
}

// loadScale writes l's keys with scaleValueSize-byte values into im, 10,000 Puts per Update.
func loadScale(ctx context.Context, im impl, l layout) error {
	const batch = 10000
	keys := l.keys()
	for off := 0; off < len(keys); off += batch {
		if err := im.putMany(ctx, keys[off:min(off+batch, len(keys))], bytes.Repeat([]byte{byte('a' + off/batch%26)}, scaleValueSize)); err != nil {
			return fmt.Errorf("keys %d to %d: %w", off, off+batch, err)
		}
	}
	return nil
}
