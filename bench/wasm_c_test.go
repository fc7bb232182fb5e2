package bench

import (
	"context"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/host/wasmhost"
	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/internal/testenv"
	"github.com/dockyard/dockyard/pdk"
)

// implWasmC is plugins/cinmem, the in-memory driver written in C on the C driver kit (pdk/c),
// compiled by clang and run through host/wasmhost in its default sandbox, beside wasm-inmem (the
// Go driver compiled to wasm) and inmem (the Go driver in process).
const implWasmC = "wasm-c"

// cinmemSources and cinmemFlags build plugins/cinmem as `make cwasm` does (artifactbuild.CFlags,
// which pdk/c/ctest uses too), relative to this package.
var (
	cinmemSources = []string{
		"../plugins/cinmem/cinmem.c", "../plugins/cinmem/kv.c", "../plugins/cinmem/kv.h",
		"../pdk/c/dockyard.c", "../pdk/c/frame.c", "../pdk/c/request.c", "../pdk/c/wasm.c",
		"../pdk/c/dockyard.h", "../pdk/c/frame.h", "../pdk/c/request.h",
	}
	cinmemFlags = append(slices.Clone(artifactbuild.CFlags), "-I../pdk/c")
)

// cinmemWasm is plugins/cinmem built to wasm (through internal/artifactbuild's cache), once per
// test binary.
var cinmemWasm = sync.OnceValues(func() ([]byte, error) {
	path, err := artifactbuild.BuildC(cinmemSources, cinmemFlags)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(path)
})

// openWasmC opens a new store on the compiled cinmem module. Without clang for wasm32-wasi it
// ends tb through testenv.Unavailable (a loud skip locally, a failure under CI=true).
func openWasmC(ctx context.Context, tb testing.TB) (*wasmImpl, error) {
	if err := artifactbuild.CheckC(); err != nil {
		testenv.Unavailable(tb, "clang for wasm32-wasi", err.Error())
	}
	m := wasmCModule(tb)
	d, err := m.NewDriver(ctx, "")
	if err != nil {
		return nil, err
	}
	return &wasmImpl{storeImpl: storeImpl{s: pdk.NewStore(d)}, stats: clientStats(d)}, nil
}

// wasmCModule returns the compiled cinmem module, compiled once per test binary and kept with
// the Go ones in wasmModules, which TestMain closes.
func wasmCModule(tb testing.TB) *wasmhost.Module {
	tb.Helper()
	wasmModules.mu.Lock()
	defer wasmModules.mu.Unlock()
	if m := wasmModules.modules[implWasmC]; m != nil {
		return m
	}
	wasm, err := cinmemWasm()
	if err != nil {
		tb.Fatalf("build plugins/cinmem: %v", err)
	}
	m, err := wasmhost.Compile(context.Background(), wasm, wasmhost.WithName("cinmem"), quiet)
	if err != nil {
		tb.Fatalf("compile plugins/cinmem: %v", err)
	}
	if wasmModules.modules == nil {
		wasmModules.modules = map[string]*wasmhost.Module{}
	}
	wasmModules.modules[implWasmC] = m
	return m
}

// TestWasmCCrossings: through the C guest too, a View with one Get, an Update with one Put and
// an Update with 100 Puts are one crossing each (the batching is the host's, whatever the
// guest's language).
func TestWasmCCrossings(t *testing.T) {
	ctx := context.Background()
	l := layout{groups: 2, perGroup: 100}
	keys := randomKeys(l, 100)
	value := initialValue(1)
	im := openLoaded(t, implWasmC, l).(*wasmImpl)
	if _, ok := im.crossings(); !ok {
		t.Fatal("cannot count crossings (see TestWasmCrossings)")
	}
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
}
