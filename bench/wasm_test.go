package bench

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/dockyard/dockyard/host/wasmhost"
	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/internal/etcdtest"
	"github.com/dockyard/dockyard/internal/pgtest"
	"github.com/dockyard/dockyard/pdk"
)

// The wasm implementations: plugins/inmem compiled to WebAssembly and run through host/wasmhost,
// in its default sandbox (memory cap and per-call deadline) and in trusted mode (no deadline).
// They are in implNames, so every benchmark and TestImplementationsAgree cover them.
const (
	implWasm        = "wasm-inmem"
	implWasmTrusted = "wasm-inmem-trusted"
)

// inmemPlugin is the plugin the wasm implementations load, relative to this package.
const inmemPlugin = "../plugins/inmem"

// inmemWasm is plugins/inmem built to wasm (through internal/artifactbuild's cache), once per
// test binary.
var inmemWasm = sync.OnceValues(func() ([]byte, error) {
	path, err := artifactbuild.Build(inmemPlugin)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(path)
})

// quiet discards the guest's output and the host's warnings.
var quiet = wasmhost.WithLogger(slog.New(slog.DiscardHandler))

// wasmModules are the compiled modules of the two wasm implementations, compiled once per test
// binary with the default compilation cache (so only the first run on a machine compiles from
// scratch) and closed by TestMain.
var wasmModules struct {
	mu      sync.Mutex
	modules map[string]*wasmhost.Module
}

// wasmModule returns the compiled module of implementation name (implWasm or implWasmTrusted).
func wasmModule(tb testing.TB, name string) *wasmhost.Module {
	tb.Helper()
	wasmModules.mu.Lock()
	defer wasmModules.mu.Unlock()
	if m := wasmModules.modules[name]; m != nil {
		return m
	}
	wasm, err := inmemWasm()
	if err != nil {
		tb.Fatalf("build %s: %v", inmemPlugin, err)
	}
	opts := []wasmhost.Option{wasmhost.WithName("inmem"), quiet}
	if name == implWasmTrusted {
		opts = append(opts, wasmhost.WithTrusted())
	}
	m, err := wasmhost.Compile(context.Background(), wasm, opts...)
	if err != nil {
		tb.Fatalf("compile %s: %v", inmemPlugin, err)
	}
	if wasmModules.modules == nil {
		wasmModules.modules = map[string]*wasmhost.Module{}
	}
	wasmModules.modules[name] = m
	return m
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, mod := range wasmModules.modules {
		mod.Close(context.Background())
	}
	pgtest.Shutdown()   // the throwaway PostgreSQL server of postgres_test.go, if one was started
	etcdtest.Shutdown() // the throwaway etcd cluster of etcd_test.go, if one was started
	os.Exit(code)
}

// wasmImpl is a store opened on a wasm module: a storeImpl whose crossings can be counted.
type wasmImpl struct {
	storeImpl
	stats func() pdk.TransportStats // nil when the ABI client's statistics cannot be reached
}

// openWasm opens a new store on the module of implementation name.
func openWasm(ctx context.Context, tb testing.TB, name string) (*wasmImpl, error) {
	d, err := wasmModule(tb, name).NewDriver(ctx, "")
	if err != nil {
		return nil, err
	}
	return &wasmImpl{storeImpl: storeImpl{s: pdk.NewStore(d)}, stats: clientStats(d)}, nil
}

// crossings returns how many crossings into the guest the store has made, and whether that
// can be known.
func (im *wasmImpl) crossings() (uint64, bool) {
	if im.stats == nil {
		return 0, false
	}
	return im.stats().RoundTrips, true
}

// clientStats returns the statistics of the ABI client behind a driver from host/wasmhost
// (a pdk.StatsReporter), or nil.
func clientStats(d pdk.Driver) func() pdk.TransportStats {
	if r, ok := d.(pdk.StatsReporter); ok {
		return func() pdk.TransportStats { st, _ := r.TransportStats(); return st }
	}
	return nil
}

// TestWasmCrossings checks the ABI client's batching through host/wasmhost, in both modes: a View
// with one Get is one crossing into the guest, and so are an Update with one Put and an Update
// with 100 Puts. The wasm benchmarks report the same count as crossings/op.
func TestWasmCrossings(t *testing.T) {
	ctx := context.Background()
	l := layout{groups: 2, perGroup: 100}
	keys := randomKeys(l, 100)
	value := initialValue(1)
	for _, name := range []string{implWasm, implWasmTrusted} {
		t.Run(name, func(t *testing.T) {
			im := openLoaded(t, name, l).(*wasmImpl)
			if _, ok := im.crossings(); !ok {
				t.Fatal("cannot count crossings: host/wasmhost's driver no longer exposes the *abi.Client " +
					"(an exported field or a Stats method); clientStats must be taught the new way")
			}
			// Each operation is done several times, so that the read rollback a View leaves
			// queued (it rides at the front of the next batch) is counted as what it is: free.
			const rounds = 10
			for _, op := range []struct {
				name string
				do   func() error
			}{
				{"View with one Get", func() error { _, err := im.get(ctx, keys[0]); return err }},
				{"Update with one Put", func() error { return im.put(ctx, keys[1], value) }},
				{"Update with 100 Puts", func() error { return im.putMany(ctx, keys, value) }},
			} {
				before, _ := im.crossings()
				for range rounds {
					if err := op.do(); err != nil {
						t.Fatalf("%s: %v", op.name, err)
					}
				}
				after, _ := im.crossings()
				if got := float64(after-before) / rounds; got != 1 {
					t.Errorf("%s: %.1f crossings, want 1", op.name, got)
				}
			}
		})
	}
}

// BenchmarkWasmCall is the floor of a crossing: one call of an exported function that does
// nothing (nopModule), straight through wazero, in the two configurations host/wasmhost uses.
//
//	floor          the sandbox's: a runtime with WithCloseOnContextDone(true), each call under
//	               a deadline (as host/wasmhost does it: one cancellable context, and one timer
//	               re-armed for each call that would cancel it). wazero starts a goroutine for
//	               every call made with a cancellable context, to watch it.
//	floor-trusted  WithTrusted's: WithCloseOnContextDone(false), context.Background().
//
// A host/wasmhost crossing is two such calls (dockyard_buffer, dockyard_call) plus the guest's
// work; see BenchmarkRoundTrip in host/wasmhost for the transport's own cost.
func BenchmarkWasmCall(b *testing.B) {
	for _, mode := range []struct {
		name    string
		sandbox bool
	}{{"floor", true}, {"floor-trusted", false}} {
		b.Run(mode.name, func(b *testing.B) {
			ctx := context.Background()
			rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(mode.sandbox))
			defer rt.Close(ctx)
			mod, err := rt.Instantiate(ctx, nopModule)
			if err != nil {
				b.Fatal(err)
			}
			nop := mod.ExportedFunction("nop")
			callCtx := ctx
			var watchdog *time.Timer
			if mode.sandbox {
				var cancel context.CancelFunc
				callCtx, cancel = context.WithCancel(ctx)
				defer cancel()
				watchdog = time.AfterFunc(time.Hour, cancel)
				watchdog.Stop()
			}
			var stack []uint64 // () -> (): no parameters, no results
			b.ReportAllocs()
			for b.Loop() {
				if watchdog != nil {
					watchdog.Reset(wasmhost.DefaultCallTimeout)
				}
				err := nop.CallWithStack(callCtx, stack)
				if watchdog != nil && !watchdog.Stop() {
					b.Fatal("watchdog fired")
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// nopModule is the smallest useful WebAssembly module: one function of type () -> () that
// does nothing, exported as "nop". No memory, no imports.
var nopModule = []byte{
	0x00, 0x61, 0x73, 0x6d, // magic: "\0asm"
	0x01, 0x00, 0x00, 0x00, // version 1
	// Type section (id 1), 4 bytes: one type, func () -> ().
	0x01, 0x04,
	0x01,             // 1 type
	0x60, 0x00, 0x00, // func, 0 parameters, 0 results
	// Function section (id 3), 2 bytes: one function, of type 0.
	0x03, 0x02,
	0x01, // 1 function
	0x00, // type index 0
	// Export section (id 7), 7 bytes: "nop" is function 0.
	0x07, 0x07,
	0x01,                // 1 export
	0x03, 'n', 'o', 'p', // name: length 3, "nop"
	0x00, 0x00, // kind func, function index 0
	// Code section (id 10), 4 bytes: the body of function 0.
	0x0a, 0x04,
	0x01, // 1 body
	0x02, // body size: 2 bytes
	0x00, // 0 local declarations
	0x0b, // end
}

// BenchmarkWasmOpen is the time to open a store on plugins/inmem from its wasm bytes: compile
// (wasmhost.Compile), instantiate and say HELLO (Module.Open), in the default sandbox. Closing
// is not timed.
//
//	cold  an empty compilation cache (a new directory for each open): wazero compiles the Go
//	      guest to native code from scratch, which takes seconds, so this runs few iterations
//	warm  the compilation cache already holds the module (filled once, before timing)
//
// Each reports ms/op besides ns/op.
func BenchmarkWasmOpen(b *testing.B) {
	ctx := context.Background()
	wasm, err := inmemWasm()
	if err != nil {
		b.Fatalf("build %s: %v", inmemPlugin, err)
	}
	open := func(b *testing.B, cacheDir string) {
		m, err := wasmhost.Compile(ctx, wasm, wasmhost.WithName("inmem"), quiet, wasmhost.WithCacheDir(cacheDir))
		if err != nil {
			b.Fatal(err)
		}
		s, err := m.Open(ctx, "")
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		if err := m.Close(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			dir := b.TempDir()
			b.StartTimer()
			open(b, dir)
		}
		reportMs(b)
	})
	b.Run("warm", func(b *testing.B) {
		dir := b.TempDir()
		open(b, dir) // fills the cache
		for b.Loop() {
			open(b, dir)
		}
		reportMs(b)
	})
}

// reportMs reports the time per operation in milliseconds too (after b.Loop has ended).
func reportMs(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed())/float64(time.Millisecond)/float64(b.N), "ms/op")
}

// crossingCounter is an implementation whose crossings into a guest can be counted.
type crossingCounter interface {
	crossings() (uint64, bool)
}

// Interface checks.
var (
	_ impl            = (*wasmImpl)(nil)
	_ crossingCounter = (*wasmImpl)(nil)
)
