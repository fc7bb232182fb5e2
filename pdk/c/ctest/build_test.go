package ctest

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/host/wasmhost"
	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/internal/testenv"
)

// cFlags are the C driver modules' flags (artifactbuild.CFlags, which `make cwasm` builds with
// too), plus the runtime's headers.
var cFlags = append(slices.Clone(artifactbuild.CFlags), "-I..")

// The sources, relative to this directory: the runtime (pdk/c) and the cinmem driver.
var (
	runtimeSrcs = []string{"../dockyard.c", "../frame.c", "../request.c", "../dockyard.h", "../frame.h", "../request.h"}
	bindingSrcs = []string{"../wasm.c"}
	cinmemSrcs  = []string{"../../../plugins/cinmem/cinmem.c", "../../../plugins/cinmem/kv.c", "../../../plugins/cinmem/kv.h"}
)

// cModule is a C module built once per test binary.
type cModule struct {
	srcs, flags []string
	once        sync.Once
	wasm        []byte
	err         error
}

var (
	// cinmemC is plugins/cinmem as `make cwasm` builds it.
	cinmemC = &cModule{srcs: concat(cinmemSrcs, runtimeSrcs, bindingSrcs), flags: cFlags}
	// hostileC is cinmem behind testdata/hostile.c's exports, which break the binding on cue.
	hostileC = &cModule{
		srcs:  concat([]string{"testdata/hostile.c"}, cinmemSrcs, runtimeSrcs),
		flags: concat(cFlags, []string{"-I../../../plugins/cinmem"}),
	}
)

func concat(lists ...[]string) []string {
	var all []string
	for _, l := range lists {
		all = append(all, l...)
	}
	return all
}

// requireClang ends t through testenv.Unavailable when clang cannot build wasm32-wasi reactors.
func requireClang(t testing.TB) {
	t.Helper()
	if err := artifactbuild.CheckC(); err != nil {
		testenv.Unavailable(t, "clang for wasm32-wasi", err.Error())
	}
}

// bytes returns the module's wasm, building it on first use.
func (m *cModule) bytes(t testing.TB) []byte {
	t.Helper()
	requireClang(t)
	m.once.Do(func() {
		var path string
		if path, m.err = artifactbuild.BuildC(m.srcs, m.flags); m.err == nil {
			m.wasm, m.err = os.ReadFile(path)
		}
	})
	if m.err != nil {
		t.Fatalf("build %s: %v", m.srcs[0], m.err)
	}
	return m.wasm
}

// compile compiles m through host/wasmhost; see compileWasm.
func (m *cModule) compile(t testing.TB, name string, opts ...wasmhost.Option) *wasmhost.Module {
	t.Helper()
	return compileWasm(t, m.bytes(t), name, opts...)
}

// compileWasm compiles a module through host/wasmhost with a quiet logger (unless opts set one),
// closed at the end of the test.
func compileWasm(t testing.TB, wasm []byte, name string, opts ...wasmhost.Option) *wasmhost.Module {
	t.Helper()
	opts = append([]wasmhost.Option{wasmhost.WithName(name), wasmhost.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	mod, err := wasmhost.Compile(context.Background(), wasm, opts...)
	if err != nil {
		t.Fatalf("Compile %s: %v", name, err)
	}
	t.Cleanup(func() { mod.Close(context.Background()) })
	return mod
}
