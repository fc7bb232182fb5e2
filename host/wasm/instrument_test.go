package wasm

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestGoModulesAreInstrumented: the Go guests the tests build (pdk/wasm) take the deadline's
// cheap path, and their instrumented form is what runs.
func TestGoModulesAreInstrumented(t *testing.T) {
	inmem, hostile := sharedModules(t)
	for _, m := range []*Module{inmem, hostile} {
		if !m.instrumented {
			t.Errorf("module %q is not instrumented", m.Name())
		}
		tr := newTestTransport(t, m, "")
		if _, err := tr.RoundTrip(context.Background(), []byte("x")); err != nil {
			t.Fatal(err)
		}
		if tr.inst.stop == nil {
			t.Errorf("an instance of module %q has no stop flag", m.Name())
		}
	}
	trusted := compileBuilt(t, inmemWasm, WithTrusted())
	if trusted.instrumented {
		t.Error("a trusted module was instrumented")
	}
}

// TestInstrumentChecks: a check at every function entry, loop head and tail call.
func TestInstrumentChecks(t *testing.T) {
	g := binding(1, nil, cat(when(7, insLoopForever), echo))
	out, err := instrument(g.bytes())
	if err != nil {
		t.Fatal(err)
	}
	// Three functions, one loop: four checks, each global.get 0 (the module had no globals).
	check := []byte{0x23, 0x00, 0x04, 0x40, 0x00, 0x0b}
	if n := bytes.Count(out, check); n != 4 {
		t.Errorf("%d checks, want 4", n)
	}
	m, _ := compileGen(t, g)
	if !m.instrumented {
		t.Fatal("the module was not instrumented")
	}
	// A function whose body starts with a loop gets one check, the loop's.
	loopFirst := genModule{memPages: 1, funcs: []genFunc{{"f", typeVoid, insLoopForever}}}
	out, err = instrument(loopFirst.bytes())
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(out, check); n != 1 {
		t.Errorf("a function starting with a loop got %d checks, want 1", n)
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
	g.funcs = append(g.funcs, genFunc{"spin", typeBuffer, spin})
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

// TestNotInstrumentable: what instrument refuses runs with wazero's own termination checks,
// which stop a runaway guest all the same; a module that names a global it does not have is
// refused as wazero refuses it, not made valid by the stop flag.
func TestNotInstrumentable(t *testing.T) {
	startSection := binding(1, nil, cat(when(7, insLoopForever), echo))
	startSection.hasStart = true // _initialize, also the start function
	exportsFlag := binding(1, nil, cat(when(7, insLoopForever), echo))
	exportsFlag.funcs = append(exportsFlag.funcs, genFunc{stopExport, typeVoid, nil})
	for _, c := range []struct {
		name string
		g    genModule
		why  string
	}{
		{"start section", startSection, "the module has a start section"},
		{"exports the flag's name", exportsFlag, `the module exports "dockyard:stop" itself`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := instrument(c.g.bytes()); !errors.Is(err, errNotInstrumentable) || !strings.Contains(err.Error(), c.why) {
				t.Fatalf("instrument: %v; want it to refuse because %s", err, c.why)
			}
			m, rec := compileGen(t, c.g, WithCallTimeout(100*time.Millisecond))
			if m.instrumented {
				t.Fatal("the module was instrumented")
			}
			if r, ok := rec.find("wasm module not instrumented"); !ok || !strings.Contains(attr(r, "reason"), c.why) {
				t.Errorf("the fallback was not logged with its reason")
			}
			tr := newTestTransport(t, m, "")
			_, err := tr.RoundTrip(context.Background(), []byte("forever"))
			wantInstanceError(t, err, ErrDeadline, "dockyard_call exceeded its 100ms deadline")
			if resp, err := tr.RoundTrip(context.Background(), []byte("after")); err != nil || string(resp) != "after" {
				t.Fatalf("after the deadline: %q, %v", resp, err)
			}
		})
	}

	// global.set 0 in a module without globals: invalid, and after instrumenting it would clear
	// the stop flag.
	forged := binding(1, nil, cat(i32c(0), []byte{0x24, 0x00}, echo))
	if _, err := instrument(forged.bytes()); err == nil || !strings.Contains(err.Error(), "global 0 does not exist") {
		t.Fatalf("instrument accepted a module setting a global it does not have: %v", err)
	}
	if m, err := Compile(context.Background(), forged.bytes(), WithCacheDir("")); err == nil {
		m.Close(context.Background())
		t.Fatal("Compile accepted an invalid module")
	}
}

// TestInstrumentMalformed: instrument never panics on garbage; it refuses it.
func TestInstrumentMalformed(t *testing.T) {
	good := binding(1, nil, cat(when(7, insLoopForever), echo)).bytes()
	for n := range len(good) {
		if _, err := instrument(good[:n]); err == nil && n < len(good) {
			// A prefix may end at a section boundary and be a valid module of fewer sections.
			if _, err := parseSections(good[:n]); err != nil {
				t.Fatalf("instrument accepted %d bytes that do not parse", n)
			}
		}
	}
	for i := 8; i < len(good); i++ {
		b := bytes.Clone(good)
		b[i] ^= 0xff
		instrument(b) // must not panic
	}
}
