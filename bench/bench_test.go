package bench

import (
	"context"
	"math/rand/v2"
	"testing"
)

// benchLayout is the content every benchmark database starts with: 10,000 keys in ten groups
// of 1000, so that a group prefix scans exactly 1000 keys.
var benchLayout = layout{groups: 10, perGroup: 1000}

// randomKeys returns n keys of l chosen uniformly at random (with repeats), the same sequence
// for every implementation.
func randomKeys(l layout, n int) []string {
	rng := rand.New(rand.NewPCG(1, 2))
	all := l.keys()
	ks := make([]string, n)
	for i := range ks {
		ks[i] = all[rng.IntN(len(all))]
	}
	return ks
}

// keyRing is the number of pre-chosen random keys a benchmark cycles through (a power of two).
const keyRing = 1 << 14

// forEachImpl runs body as a sub-benchmark for every implementation, each on its own database
// loaded with benchLayout. Opening and loading are not timed: body's b.Loop starts the timer.
// An implementation that crosses into a wasm guest also reports its crossings/op.
func forEachImpl(b *testing.B, body func(b *testing.B, im impl)) {
	for _, name := range implNames {
		b.Run(name, func(b *testing.B) {
			im := openLoaded(b, name, benchLayout)
			b.ReportAllocs()
			cc, _ := im.(crossingCounter)
			var before uint64
			if cc != nil {
				before, _ = cc.crossings()
			}
			body(b, im)
			if cc != nil {
				if after, ok := cc.crossings(); ok && b.N > 0 {
					b.ReportMetric(float64(after-before)/float64(b.N), "crossings/op")
				}
			}
		})
	}
}

// BenchmarkGetInView is one Get of a random existing key inside one read transaction.
func BenchmarkGetInView(b *testing.B) {
	ctx := context.Background()
	keys := randomKeys(benchLayout, keyRing)
	forEachImpl(b, func(b *testing.B, im impl) { getLoop(ctx, b, im, keys) })
}

// BenchmarkPutInUpdate is one Put overwriting a random key inside one durable write
// transaction.
func BenchmarkPutInUpdate(b *testing.B) {
	ctx := context.Background()
	keys := randomKeys(benchLayout, keyRing)
	value := initialValue(benchLayout.n())
	forEachImpl(b, func(b *testing.B, im impl) { putLoop(ctx, b, im, keys, value) })
}

// BenchmarkUpdate100Puts is 100 Puts of random keys inside one durable write transaction.
func BenchmarkUpdate100Puts(b *testing.B) {
	ctx := context.Background()
	keys := randomKeys(benchLayout, keyRing)
	value := initialValue(benchLayout.n() + 1)
	forEachImpl(b, func(b *testing.B, im impl) { putManyLoop(ctx, b, im, keys, value) })
}

// The timed loops of GetInView, PutInUpdate and Update100Puts, shared with the loopback's
// benchmarks (loopback_test.go), so that both measure the same operation.

// getLoop Gets a random existing key per iteration.
func getLoop(ctx context.Context, b *testing.B, im impl, keys []string) {
	i := 0
	for b.Loop() {
		v, err := im.get(ctx, keys[i&(keyRing-1)])
		if err != nil || len(v) != valueSize {
			b.Fatalf("get: %d bytes, %v", len(v), err)
		}
		i++
	}
}

// putLoop overwrites a random key per iteration, one Update each.
func putLoop(ctx context.Context, b *testing.B, im impl, keys []string, value []byte) {
	i := 0
	for b.Loop() {
		if err := im.put(ctx, keys[i&(keyRing-1)], value); err != nil {
			b.Fatalf("put: %v", err)
		}
		i++
	}
}

// putManyLoop writes 100 keys per iteration in one Update.
func putManyLoop(ctx context.Context, b *testing.B, im impl, keys []string, value []byte) {
	const batch = 100
	off := 0
	for b.Loop() {
		if off+batch > len(keys) {
			off = 0
		}
		if err := im.putMany(ctx, keys[off:off+batch], value); err != nil {
			b.Fatalf("put 100: %v", err)
		}
		off += batch
	}
}

// BenchmarkScan1000 is a prefix scan returning 1000 keys and their values, cycling through the
// groups.
func BenchmarkScan1000(b *testing.B) {
	ctx := context.Background()
	prefixes := make([]string, benchLayout.groups)
	for g := range prefixes {
		prefixes[g] = groupPrefix(g)
	}
	forEachImpl(b, func(b *testing.B, im impl) {
		i := 0
		for b.Loop() {
			kvs, err := im.scan(ctx, prefixes[i%len(prefixes)])
			if err != nil || len(kvs) != benchLayout.perGroup {
				b.Fatalf("scan: %d entries, %v", len(kvs), err)
			}
			i++
		}
	})
}
