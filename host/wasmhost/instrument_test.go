package wasmhost

import (
	"bytes"
	"context"
	"errors"
	"github.com/dockyard/dockyard/internal/instrument"
	"strings"
	"testing"
	"time"
)

// TestGoModulesAreInstrumented: the Go guests the tests build (pdk/wasmguest) are instrumented, and
// their instrumented form, which imports yield, is what runs.
func TestGoModulesAreInstrumented(t *testing.T) {
	inmem, hostile := sharedModules(t)
	for _, m := range []*Module{inmem, hostile} {
		if !m.instrumented || !importsYield(m) {
			t.Errorf("module %q is not instrumented", m.Name())
		}
		tr := newTestTransport(t, m, "")
		if _, err := tr.RoundTrip(context.Background(), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	trusted := compileBuilt(t, inmemWasm, WithTrusted())
	if trusted.instrumented || importsYield(trusted) {
		t.Error("a trusted module was instrumented")
	}
}

func importsYield(m *Module) bool {
	for _, def := range m.compiled.ImportedFunctions() {
		if mod, name, _ := def.Import(); mod == instrument.YieldModule && name == instrument.YieldName {
			return true
		}
	}
	return false
}

// TestInstrumentChecks: a check at every function entry and loop head.
func TestInstrumentChecks(t *testing.T) {
	g := binding(1, nil, cat(when(7, insLoopForever), echo))
	out, err := instrument.Module(g.bytes())
	if err != nil {
		t.Fatal(err)
	}
	// Three functions, one loop: four checks, each on global 0 (the module had no globals) and
	// calling function 0 (it had no imports).
	check := instrument.Check(0, 0)
	if n := bytes.Count(out, check); n != 4 {
		t.Errorf("%d checks, want 4", n)
	}
	m, _ := compileGen(t, g)
	if !m.instrumented {
		t.Fatal("the module was not instrumented")
	}
	// A function whose body starts with a loop gets one check, the loop's.
	loopFirst := genModule{memPages: 1, funcs: []genFunc{{name: "f", typ: typeVoid, body: insLoopForever}}}
	out, err = instrument.Module(loopFirst.bytes())
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(out, check); n != 1 {
		t.Errorf("a function starting with a loop got %d checks, want 1", n)
	}
}

// TestInstrumentRenumbers: behind the yield import, every defined function moves up one index,
// and every reference to one follows: calls, the table's element segment, exports, the start
// function, the name section. A module using all of them answers as it did uninstrumented.
func TestInstrumentRenumbers(t *testing.T) {
	// twice(x) = 2x
	twice := cat(insLocal0, insLocal0, []byte{0x6a})
	// dockyard_call: sched_yield (the import, function 0); then the length twice(twice(n)),
	// once by call (function 4) and once through the table (slot 3), answered from 1024.
	call := cat([]byte{0x10, 0x00, 0x1a},
		insLocal0, []byte{0x10, 0x04}, i32c(3), []byte{0x11, typeBuffer, 0x00},
		insI64ExtendU, i64c(1024<<32), insI64Or)
	g := binding(1, nil, call)
	g.funcs = append(g.funcs, genFunc{name: "twice", typ: typeBuffer, body: twice})
	g.importWASI, g.table, g.names, g.hasStart = true, true, true, true
	for _, opts := range [][]Option{{WithTrusted()}, nil} {
		m, _ := compileGen(t, g, opts...)
		tr := newTestTransport(t, m, "")
		resp, err := tr.RoundTrip(context.Background(), []byte("abc"))
		if err != nil || len(resp) != 12 || string(resp[:3]) != "abc" {
			t.Fatalf("instrumented %v: %q, %v; want 12 bytes starting with the request", m.instrumented, resp, err)
		}
		for export, def := range m.compiled.ExportedFunctions() {
			if def.DebugName() != "."+export {
				t.Errorf("instrumented %v: export %q is named %q in the name section", m.instrumented, export, def.DebugName())
			}
		}
	}
}

// TestStartFunctionDeadline: a start function runs under the call deadline, and its failure is
// reported as the start function's.
func TestStartFunctionDeadline(t *testing.T) {
	g := binding(1, nil, nil)
	g.funcs[0].body = insLoopForever // _initialize, also the start function
	g.hasStart = true
	m, _ := compileGen(t, g, WithCallTimeout(100*time.Millisecond))
	tr := newTestTransport(t, m, "")
	for range 2 {
		start := time.Now()
		_, err := tr.RoundTrip(context.Background(), []byte("x"))
		wantInstanceError(t, err, ErrDeadline, "the start function exceeded its 100ms deadline")
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("the runaway start function took %v to stop", d)
		}
	}
}

// TestDeadlineStopsRecursion: a guest that runs for ever without a loop, by recursing two
// ways at every level, is stopped too: the check at function entry catches it (wazero's own
// WithCloseOnContextDone checks loop heads only).
func TestDeadlineStopsRecursion(t *testing.T) {
	// spin(n) calls spin(n-1) twice: 2^n calls, no loop, a stack n deep.
	spin := cat(insLocal0, []byte{0x45}, insIf, i32c(0), []byte{0x0f}, insEnd, // if n == 0 return 0
		insLocal0, i32c(1), []byte{0x6b, 0x10, 0x03, 0x1a}, // spin(n-1); drop
		insLocal0, i32c(1), []byte{0x6b, 0x10, 0x03}) // spin(n-1)
	g := binding(1, nil, cat(when(7, i32c(60), []byte{0x10, 0x03, 0x1a}), echo))
	g.funcs = append(g.funcs, genFunc{name: "spin", typ: typeBuffer, body: spin})
	m, _ := compileGen(t, g, WithCallTimeout(100*time.Millisecond))
	if !m.instrumented {
		t.Fatal("the module was not instrumented")
	}
	tr := newTestTransport(t, m, "")
	start := time.Now()
	_, err := tr.RoundTrip(context.Background(), []byte("recurse"))
	wantInstanceError(t, err, ErrDeadline, "dockyard_call exceeded its 100ms deadline")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the runaway call took %v to stop", d)
	}
}

// TestNotInstrumentable: a module instrument refuses is refused, not run without a deadline; a
// module that names a global it does not have is refused as wazero refuses it, not made valid
// by the fuel, and one that imports yield itself cannot forge it.
func TestNotInstrumentable(t *testing.T) {
	forged := binding(1, nil, cat(i32c(0), []byte{0x24, 0x00}, echo)) // global.set 0: no such global
	if _, err := instrument.Module(forged.bytes()); err == nil || !strings.Contains(err.Error(), "global 0 does not exist") {
		t.Fatalf("instrument accepted a module setting a global it does not have: %v", err)
	}
	if m, err := Compile(context.Background(), forged.bytes(), WithCacheDir("")); err == nil {
		m.Close(context.Background())
		t.Fatal("Compile accepted an invalid module")
	}

	g := binding(1, nil, nil)
	g.funcs = append(g.funcs, genFunc{name: "x", typ: typeVoid})
	b := g.bytes()
	// An import section importing yield, as the instrumented form does, put before the function
	// section: the module then imports what only the host may add.
	imp := section(2, vec(cat(name(instrument.YieldModule), name(instrument.YieldName), []byte{0x00}, uleb(typeVoid))))
	at := bytes.Index(b, []byte{0x03}) // the function section follows the type section
	forgedYield := cat(b[:at], imp, b[at:])
	if _, err := instrument.Module(forgedYield); !errors.Is(err, instrument.ErrNotInstrumentable) || !strings.Contains(err.Error(), "imports from") {
		t.Fatalf("instrument accepted a module importing yield itself: %v", err)
	}
	m, err := Compile(context.Background(), forgedYield, WithCacheDir(""))
	if err == nil {
		m.Close(context.Background())
		t.Fatal("Compile accepted a module importing yield itself")
	}
	if !strings.Contains(err.Error(), instrument.YieldModule+"."+instrument.YieldName) {
		t.Errorf("Compile's error %q does not name the import", err)
	}
}

// TestInstrumentMalformed: instrument never panics on garbage; it refuses it.
func TestInstrumentMalformed(t *testing.T) {
	good := binding(1, nil, cat(when(7, insLoopForever), echo)).bytes()
	for n := range len(good) {
		if _, err := instrument.Module(good[:n]); err == nil && n < len(good) {
			// A prefix may end at a section boundary and be a valid module of fewer sections.
			if err := instrument.CheckSections(good[:n]); err != nil {
				t.Fatalf("instrument accepted %d bytes that do not parse", n)
			}
		}
	}
	for i := 8; i < len(good); i++ {
		b := bytes.Clone(good)
		b[i] ^= 0xff
		instrument.Module(b) // must not panic
	}
}

// TestCompileBounds: what makes wazero's compiler slow or hungry is bounded before compiling,
// with an error naming the bound; the project's Go guests stay within a quarter of each.
func TestCompileBounds(t *testing.T) {
	for _, b := range []*builtModule{inmemWasm, buntdbWasm, hostileWasm} {
		x, err := instrument.Measure(b.bytes(t))
		if err != nil {
			t.Fatalf("%s: %v", b.dir, err)
		}
		t.Logf("%s: nesting %d, br_table %d", b.dir, x.MaxDepth, x.MaxBrTable)
		if x.MaxDepth > instrument.MaxNesting/4 || x.MaxBrTable > instrument.MaxBrTable/4 {
			t.Errorf("%s nests %d deep and has a br_table of %d targets: too close to the bounds %d and %d",
				b.dir, x.MaxDepth, x.MaxBrTable, instrument.MaxNesting, instrument.MaxBrTable)
		}
	}

	brTable := cat(insLocal0, []byte{0x0e}, uleb(instrument.MaxBrTable+1), bytes.Repeat([]byte{0x00}, instrument.MaxBrTable+1), []byte{0x00})
	var nested []byte
	for range instrument.MaxNesting {
		nested = append(nested, 0x02, 0x40)
	}
	for range instrument.MaxNesting {
		nested = append(nested, 0x0b)
	}
	bigTable := binding(1, nil, nil)
	bigTable.table = true
	for _, c := range []struct {
		name string
		wasm []byte
		want string
	}{
		{"br_table", binding(1, nil, cat([]byte{0x02, 0x40}, brTable, insEnd, echo)).bytes(), "a br_table of 16385 targets, over the limit of 16384"},
		{"nesting", binding(1, nil, cat(nested, echo)).bytes(), "blocks nested over 4096 deep"},
		{"table", bytes.Replace(bigTable.bytes(), []byte{0x04, 0x04, 0x01, 0x70, 0x00, 0x03}, cat([]byte{0x04, 0x06, 0x01, 0x70, 0x00}, uleb(instrument.MaxTableEntries+1)), 1),
			"a table of 1048577 entries, over the limit of 1048576"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := Compile(context.Background(), c.wasm, WithCacheDir(""), WithName("bounded"))
			if err == nil {
				m.Close(context.Background())
				t.Fatalf("Compile accepted it; want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "cannot run sandboxed") {
				t.Errorf("Compile = %v, want it to say %q", err, c.want)
			}
		})
	}
}
