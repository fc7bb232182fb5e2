package wasmhost

import (
	"context"
	"errors"
	"fmt"
	"github.com/dockyard/dockyard/internal/instrument"
	"github.com/dockyard/dockyard/internal/wasmbinding"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/dockyard/dockyard/host/artifact"
	"github.com/dockyard/dockyard/internal/regfile"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// Module is a compiled driver module. Compile it once and open any number of stores from it:
// each store gets its own instance (its own linear memory and driver state), and all share the
// module's wazero runtime and native code. A Module is safe for concurrent use.
type Module struct {
	cfg      config
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	cache    wazero.CompilationCache // nil without a disk cache
	// instrumented: the compiled code counts its fuel and calls yield (internal/instrument); every
	// untrusted module is, and a trusted one is not.
	instrumented bool

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

var requiredExports = []struct {
	name            string
	params, results []api.ValueType
	sig             string
}{
	{wasmbinding.ExportInit, nil, nil, "() -> ()"},
	{wasmbinding.ExportBuffer, []api.ValueType{api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}, "(i32) -> i32"},
	{wasmbinding.ExportCall, []api.ValueType{api.ValueTypeI32}, []api.ValueType{api.ValueTypeI64}, "(i32) -> i64"},
}

// Compile compiles a driver module from its bytes (the name in logs and errors is "wasm"
// unless WithName says otherwise). It checks the module's exports and imports against the wasm
// binding of the ABI: a missing or mistyped export, or an import from anything but
// wasi_snapshot_preview1 and the optional network (dockyard_net), is an error naming it.
func Compile(ctx context.Context, wasm []byte, opts ...Option) (*Module, error) {
	cfg, err := resolve("wasm", opts)
	if err != nil {
		return nil, err
	}
	return compile(ctx, cfg, wasm)
}

// CompileFile compiles the driver module in the file at path; see Compile. Its default name is
// the file's base name without ".wasm".
func CompileFile(ctx context.Context, path string, opts ...Option) (*Module, error) {
	cfg, err := resolve(strings.TrimSuffix(filepath.Base(path), ".wasm"), opts)
	if err != nil {
		return nil, err
	}
	b, err := regfile.ReadFile(path, MaxModuleSize)
	if err != nil {
		return nil, fmt.Errorf("wasmhost: read module: %w", err)
	}
	return compile(ctx, cfg, b)
}

// MaxModuleSize is the largest module Compile accepts, 256 MiB: a Go driver compiled to wasm is
// a few megabytes, and wazero holds the bytes and their native code in memory. Loaders check
// a file's size against it before reading it.
const MaxModuleSize = 256 << 20

func compile(ctx context.Context, cfg config, wasm []byte) (*Module, error) {
	if len(wasm) > MaxModuleSize {
		return nil, fmt.Errorf("wasmhost: module %q is %d bytes, over the %d-byte limit (MaxModuleSize)", cfg.name, len(wasm), MaxModuleSize)
	}
	if cfg.trusted {
		return compileAs(ctx, cfg, wasm, false)
	}
	code, why := instrument.Module(wasm)
	if why == nil {
		m, err := compileAs(ctx, cfg, code, true)
		if err == nil {
			return m, nil
		}
		why = err
	}
	// A module wazero refuses as it is gets wazero's reason; one it would run is refused here,
	// because it could not be stopped (see internal/instrument).
	m, err := compileAs(ctx, cfg, wasm, false)
	if err != nil {
		return nil, err
	}
	m.Close(context.WithoutCancel(ctx))
	return nil, fmt.Errorf("wasmhost: module %q cannot run sandboxed (its call deadline cannot be enforced; "+
		"WithTrusted runs it without one): %w", cfg.name, why)
}

// compileAs compiles code in a runtime of its own, with the yield function of instrumented code
// (internal/instrument) if it is instrumented.
func compileAs(ctx context.Context, cfg config, code []byte, instrumented bool) (_ *Module, err error) {
	m := &Module{cfg: cfg, instrumented: instrumented}
	rc := wazero.NewRuntimeConfig().WithMemoryLimitPages(cfg.memoryPages())
	if cfg.cacheDir != "" {
		if m.cache, err = wazero.NewCompilationCacheWithDir(cfg.cacheDir); err != nil {
			return nil, fmt.Errorf("wasmhost: compilation cache in %s: %w", cfg.cacheDir, err)
		}
		rc = rc.WithCompilationCache(m.cache)
	}
	m.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	defer func() {
		if err != nil {
			m.Close(context.WithoutCancel(ctx))
		}
	}()
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, m.rt); err != nil {
		return nil, fmt.Errorf("wasmhost: instantiate WASI: %w", err)
	}
	if err := instantiateNet(ctx, m.rt); err != nil {
		return nil, fmt.Errorf("wasmhost: instantiate %s: %w", wasmbinding.ImportNet, err)
	}
	if instrumented {
		if _, err := m.rt.NewHostModuleBuilder(instrument.YieldModule).NewFunctionBuilder().
			WithGoModuleFunction(api.GoModuleFunc(yield), nil, nil).Export(instrument.YieldName).
			Instantiate(ctx); err != nil {
			return nil, fmt.Errorf("wasmhost: instantiate %s: %w", instrument.YieldModule, err)
		}
	}
	if m.compiled, err = m.rt.CompileModule(ctx, code); err != nil {
		return nil, fmt.Errorf("wasmhost: compile module %q: %w", cfg.name, err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("wasmhost: module %q does not implement the wasm binding of the Dockyard ABI: %w",
			cfg.name, err)
	}
	return m, nil
}

// check verifies the compiled module's exports and imports.
func (m *Module) check() error {
	var problems []error
	funcs := m.compiled.ExportedFunctions()
	for _, want := range requiredExports {
		def, ok := funcs[want.name]
		switch {
		case !ok:
			problems = append(problems, fmt.Errorf("missing export %q (func %s)", want.name, want.sig))
		case !sameTypes(def.ParamTypes(), want.params) || !sameTypes(def.ResultTypes(), want.results):
			problems = append(problems, fmt.Errorf("export %q has type %s, want %s", want.name, signature(def), want.sig))
		}
	}
	// wazero itself refuses a memory whose minimum is over the limit, at compilation.
	if _, ok := m.compiled.ExportedMemories()[wasmbinding.ExportMemory]; !ok {
		problems = append(problems, fmt.Errorf("missing export %q (memory)", wasmbinding.ExportMemory))
	}
	provided := map[string]map[string]api.FunctionDefinition{}
	for _, name := range []string{wasmbinding.ImportWASI, wasmbinding.ImportNet} {
		if mod := m.rt.Module(name); mod != nil {
			provided[name] = mod.ExportedFunctionDefinitions()
		}
	}
	for _, def := range m.compiled.ImportedFunctions() {
		mod, name, _ := def.Import()
		if m.instrumented && mod == instrument.YieldModule && name == instrument.YieldName {
			continue // added by instrument, which refuses modules importing it themselves
		}
		funcs, ok := provided[mod]
		if !ok {
			problems = append(problems, fmt.Errorf("imports function %s.%s: only %s is provided (and the optional network, %s)", mod, name,
				wasmbinding.ImportWASI, wasmbinding.ImportNet))
			continue
		}
		// Checked here, so that a module that could never be instantiated fails to load.
		switch want, ok := funcs[name]; {
		case !ok && mod == wasmbinding.ImportNet:
			problems = append(problems, fmt.Errorf("imports function %s.%s, which this host's network (version 1: %s) does not have",
				mod, name, netFuncNames()))
		case !ok:
			problems = append(problems, fmt.Errorf("imports function %s.%s, which WASI preview 1 does not have", mod, name))
		case !sameTypes(def.ParamTypes(), want.ParamTypes()) || !sameTypes(def.ResultTypes(), want.ResultTypes()):
			problems = append(problems, fmt.Errorf("imports function %s.%s with type %s, want %s", mod, name, signature(def), signature(want)))
		}
	}
	for _, def := range m.compiled.ImportedMemories() {
		mod, name, _ := def.Import()
		problems = append(problems, fmt.Errorf("imports memory %s.%s: the module must define its own", mod, name))
	}
	return errors.Join(problems...)
}

func sameTypes(a, b []api.ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func signature(def api.FunctionDefinition) string {
	names := func(ts []api.ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = api.ValueTypeName(t)
		}
		return strings.Join(s, ", ")
	}
	return fmt.Sprintf("(%s) -> (%s)", names(def.ParamTypes()), names(def.ResultTypes()))
}

// Name is the module's name in logs and errors.
func (m *Module) Name() string { return m.cfg.name }

// Open instantiates the module for a new store. A non-empty dsn is a host directory, created if
// missing, that the guest sees as "/data" and that no other store may have open at the same
// time; its path must not run through a symbolic link (a guest can plant links in its own
// directory). With WithServerDSN it is instead a server's DSN, handed to the guest unchanged,
// nothing mounted (the guest reaches the server through WithConnect's endpoints). An empty dsn
// gives the guest no filesystem. See the package documentation.
func (m *Module) Open(ctx context.Context, dsn string) (store.Store, error) {
	d, err := m.NewDriver(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if artifact.ReadOnly(ctx) {
		return pdk.NewStore(d, pdk.WithReadOnly()), nil
	}
	return pdk.NewStore(d), nil
}

// NewDriver is Open without the store adapter: the pdk.Driver speaking the ABI to a new
// instance of the module, for hosts that compose drivers themselves. Closing it closes the
// instance and releases the data directory.
func (m *Module) NewDriver(ctx context.Context, dsn string) (pdk.Driver, error) {
	return m.newDriver(ctx, dsn, false)
}

// Close closes the module's runtime and every instance still open on it: stores opened from it
// fail from then on. Close the stores first. Close is idempotent.
func (m *Module) Close(ctx context.Context) error {
	m.closeOnce.Do(func() {
		m.closed.Store(true)
		if m.rt != nil {
			m.closeErr = m.rt.Close(ctx)
		}
		if m.cache != nil {
			m.closeErr = errors.Join(m.closeErr, m.cache.Close(ctx))
		}
	})
	return m.closeErr
}

// Open compiles the module at modulePath and opens a store on it; see Module.Open for dsn. The
// module is closed with the store. To open several stores from one module, use CompileFile and
// Module.Open, which compile once.
func Open(ctx context.Context, modulePath, dsn string, opts ...Option) (store.Store, error) {
	d, err := NewDriver(ctx, modulePath, dsn, opts...)
	if err != nil {
		return nil, err
	}
	return pdk.NewStore(d), nil
}

// NewDriver is Open without the store adapter; see Module.NewDriver.
func NewDriver(ctx context.Context, modulePath, dsn string, opts ...Option) (pdk.Driver, error) {
	m, err := CompileFile(ctx, modulePath, opts...)
	if err != nil {
		return nil, err
	}
	return m.ownedDriver(ctx, dsn)
}

// ownedDriver opens a driver that owns m: closing the driver closes the module. A driver that
// fails to open closes m at once.
func (m *Module) ownedDriver(ctx context.Context, dsn string) (pdk.Driver, error) {
	d, err := m.newDriver(ctx, dsn, true)
	if err != nil {
		m.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return d, nil
}
