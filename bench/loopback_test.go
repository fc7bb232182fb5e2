package bench

import (
	"context"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
)

// The ABI's native cost: the same inmem driver behind the whole ABI path in one process (pdk
// adapter -> abi.Client -> request frame -> abi.Dispatcher -> inmem, and the response frame
// back), beside the in-process inmem store. Every remote transport (wasm, plugin) pays this
// path plus its own crossing, so it is the part of a remote read that the transport does not
// explain. The benchmarks are top-level ones of their own, not implementations of
// BenchmarkGetInView and the others, so that they do not run the loopback through the whole
// implementation table; each has the two sub-benchmarks "loopback" and "inmem", run one
// after the other, for internal/benchratio to pair (Op "LoopbackGetInView", say).
const implLoopback = "loopback"

// loopbackNames are the sub-benchmarks of the loopback benchmarks: subject, then baseline.
var loopbackNames = []string{implLoopback, "inmem"}

// loopbackRT is a RoundTripper to an abi.Dispatcher in the same process that copies frames as
// a real transport does: the request into a guest-side buffer that persists across calls (a
// wasm guest's request buffer), the response out of the guest's reused buffer into a fresh
// slice, which the caller owns (abi.RoundTripper's contract). Without the copies the loopback
// would measure less than any transport can do.
type loopbackRT struct {
	mu      sync.Mutex // the guest serves one call at a time
	d       *abi.Dispatcher
	in, out []byte
}

func (l *loopbackRT) RoundTrip(ctx context.Context, req []byte) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.in = append(l.in[:0], req...)
	l.out = l.d.Handle(ctx, l.in, l.out)
	return append([]byte(nil), l.out...), nil
}

// openLoopback opens a new, empty store on inmem through the ABI loopback. Its crossings are
// counted like a wasm implementation's (the client's Stats.RoundTrips).
func openLoopback(ctx context.Context) (*wasmImpl, error) {
	rt := &loopbackRT{d: abi.NewDispatcher(func(context.Context, abi.Hello) (pdk.Driver, error) {
		return inmem.NewDriver(), nil
	})}
	d, err := abi.NewClient(ctx, rt, abi.Hello{}, abi.WithDriverName(inmem.Name))
	if err != nil {
		return nil, err
	}
	return &wasmImpl{storeImpl: storeImpl{s: pdk.NewStore(d)}, stats: clientStats(d)}, nil
}

// forLoopback is forEachImpl over loopbackNames.
func forLoopback(b *testing.B, body func(b *testing.B, im impl)) {
	for _, name := range loopbackNames {
		b.Run(name, func(b *testing.B) {
			im := openLoadedLoopback(b, name, benchLayout)
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

// openLoadedLoopback is openLoaded for loopbackNames: the loopback is not in implNames.
func openLoadedLoopback(tb testing.TB, name string, l layout) impl {
	tb.Helper()
	if name != implLoopback {
		return openLoaded(tb, name, l)
	}
	ctx := context.Background()
	im, err := openLoopback(ctx)
	if err != nil {
		tb.Fatalf("open %s: %v", name, err)
	}
	tb.Cleanup(func() {
		if err := im.close(); err != nil {
			tb.Errorf("close %s: %v", name, err)
		}
	})
	if err := im.load(ctx, l); err != nil {
		tb.Fatalf("load %s: %v", name, err)
	}
	return im
}

// BenchmarkLoopbackGetInView is BenchmarkGetInView through the ABI loopback and in process.
func BenchmarkLoopbackGetInView(b *testing.B) {
	ctx := context.Background()
	keys := randomKeys(benchLayout, keyRing)
	forLoopback(b, func(b *testing.B, im impl) { getLoop(ctx, b, im, keys) })
}

// BenchmarkLoopbackPutInUpdate is BenchmarkPutInUpdate through the ABI loopback and in process.
func BenchmarkLoopbackPutInUpdate(b *testing.B) {
	ctx := context.Background()
	keys := randomKeys(benchLayout, keyRing)
	value := initialValue(benchLayout.n())
	forLoopback(b, func(b *testing.B, im impl) { putLoop(ctx, b, im, keys, value) })
}

// BenchmarkLoopbackUpdate100Puts is BenchmarkUpdate100Puts through the ABI loopback and in
// process.
func BenchmarkLoopbackUpdate100Puts(b *testing.B) {
	ctx := context.Background()
	keys := randomKeys(benchLayout, keyRing)
	value := initialValue(benchLayout.n() + 1)
	forLoopback(b, func(b *testing.B, im impl) { putManyLoop(ctx, b, im, keys, value) })
}

// TestLoopbackAgrees checks that the loopback store answers what the in-process one does
// after the benchmarks' own operations (a single Put, 100 Puts, Gets, a Scan), so that it is
// not fast by being wrong, and that a View with one Get and an Update of 100 Puts are one
// crossing each, as the benchmarks assume.
func TestLoopbackAgrees(t *testing.T) {
	ctx := context.Background()
	l := layout{groups: 4, perGroup: 150}
	lb := openLoadedLoopback(t, implLoopback, l).(*wasmImpl)
	in := openLoaded(t, "inmem", l)
	batch := randomKeys(l, 100)
	for _, im := range []impl{lb, in} {
		if err := im.put(ctx, l.key(7), initialValue(9001)); err != nil {
			t.Fatal(err)
		}
		before, _ := lb.crossings()
		if err := im.putMany(ctx, batch, initialValue(9002)); err != nil {
			t.Fatal(err)
		}
		if after, _ := lb.crossings(); im == lb && after-before != 1 {
			t.Errorf("Update of 100 Puts: %d crossings, want 1", after-before)
		}
	}
	for _, k := range l.keys() {
		before, _ := lb.crossings()
		got, err := lb.get(ctx, k)
		want, werr := in.get(ctx, k)
		if err != nil || werr != nil || string(got) != string(want) {
			t.Fatalf("get %q: loopback %q, %v; inmem %q, %v", k, got, err, want, werr)
		}
		if after, _ := lb.crossings(); after-before != 1 {
			t.Fatalf("View with one Get: %d crossings, want 1", after-before)
		}
	}
	if _, err := lb.get(ctx, "g01/absent"); err == nil {
		t.Fatal("get of an absent key through the loopback: no error")
	}
	got, err := lb.scan(ctx, "g01/")
	want, werr := in.scan(ctx, "g01/")
	if err != nil || werr != nil || !sameKVs(got, want) {
		t.Fatalf("scan: loopback %d entries, %v; inmem %d entries, %v", len(got), err, len(want), werr)
	}
}
