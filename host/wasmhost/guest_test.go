package wasmhost

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/internal/pgtest"
)

// builtModule builds a plugin main package to wasm once per test binary.
type builtModule struct {
	dir  string
	once sync.Once
	wasm []byte
	err  error
}

var (
	inmemWasm   = &builtModule{dir: "../../plugins/inmem"}
	hostileWasm = &builtModule{dir: "testdata/hostile"}
	buntdbWasm  = &builtModule{dir: "../../plugins/buntdb"}
)

// bytes returns the module's wasm, building it on first use.
func (b *builtModule) bytes(t testing.TB) []byte {
	t.Helper()
	b.once.Do(func() {
		var path string
		if path, b.err = artifactbuild.Build(b.dir); b.err == nil {
			b.wasm, b.err = os.ReadFile(path)
		}
	})
	if b.err != nil {
		t.Fatalf("build %s: %v", b.dir, b.err)
	}
	return b.wasm
}

// compileBuilt compiles b with opts (plus a quiet logger unless opts set one), closed at the
// end of the test. The disk compilation cache makes every compile after the first cheap.
func compileBuilt(t testing.TB, b *builtModule, opts ...Option) *Module {
	t.Helper()
	opts = append([]Option{WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	m, err := Compile(context.Background(), b.bytes(t), opts...)
	if err != nil {
		t.Fatalf("Compile %s: %v", b.dir, err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	return m
}

// shared holds modules compiled once per test binary with default options, for the tests that
// need nothing special (the conformance suite opens a store per case).
var shared struct {
	once           sync.Once
	inmem, hostile *Module
	err            error
}

func sharedModules(t testing.TB) (inmem, hostile *Module) {
	t.Helper()
	inmemBytes, hostileBytes := inmemWasm.bytes(t), hostileWasm.bytes(t)
	shared.once.Do(func() {
		quiet := WithLogger(slog.New(slog.DiscardHandler))
		if shared.inmem, shared.err = Compile(context.Background(), inmemBytes, WithName("inmem"), quiet); shared.err != nil {
			return
		}
		shared.hostile, shared.err = Compile(context.Background(), hostileBytes, WithName("hostile"), quiet)
	})
	if shared.err != nil {
		t.Fatalf("compile shared modules: %v", shared.err)
	}
	return shared.inmem, shared.hostile
}

func TestMain(m *testing.M) {
	if dir := os.Getenv(lockChildEnv); dir != "" {
		lockChild(dir) // exits
	}
	if scenario := os.Getenv(freezeChildEnv); scenario != "" {
		freezeChild(scenario) // exits
	}
	code := m.Run()
	if shared.inmem != nil {
		shared.inmem.Close(context.Background())
	}
	if shared.hostile != nil {
		shared.hostile.Close(context.Background())
	}
	pgtest.Shutdown() // the throwaway PostgreSQL server of postgres_test.go, if it started one
	os.Exit(code)
}
