package instrument

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
)

// loopModule is a module of one function, () -> (), whose body is a nop and a loop that branches
// to its own head for ever: written byte by byte, so that this package tests itself without a
// compiler.
var loopModule = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
	0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: one type, () -> ()
	0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
	0x0a, 0x0a, 0x01, 0x08, 0x00, 0x01, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, // code: nop loop br 0 end end
}

// TestModule: the instrumented module imports yield, has a check at the function's entry and at
// the loop's head, and is a module wazero compiles.
func TestModule(t *testing.T) {
	out, err := Module(loopModule)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(YieldModule)) || !bytes.Contains(out, []byte(YieldName)) {
		t.Errorf("the instrumented module does not import %s.%s", YieldModule, YieldName)
	}
	// The fuel is global 0 (there were none) and yield function 0 (there were no imports). (A
	// body that starts with a loop gets the loop's check alone.)
	if n := bytes.Count(out, Check(0, 0)); n != 2 {
		t.Errorf("%d checks, want 2: the function's entry and the loop's head", n)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	if _, err := rt.CompileModule(ctx, out); err != nil {
		t.Errorf("wazero does not compile the instrumented module: %v", err)
	}
	shape, err := Measure(loopModule)
	if err != nil || shape.MaxDepth < 1 {
		t.Errorf("Measure = %+v, %v; want the loop's depth", shape, err)
	}
}

// TestRefuses: a module that imports from YieldModule itself, and every truncation of a valid
// module, are refused with an error (never a panic).
func TestRefuses(t *testing.T) {
	imp := []byte{0x02, 0x16, 0x01, byte(len(YieldModule))}
	imp = append(imp, YieldModule...)
	imp = append(imp, byte(len(YieldName)))
	imp = append(append(imp, YieldName...), 0x00, 0x00)
	imp[1] = byte(len(imp) - 2)
	forged := append(append(bytes.Clone(loopModule[:14]), imp...), loopModule[14:]...)
	if _, err := Module(forged); !errors.Is(err, ErrNotInstrumentable) || !strings.Contains(err.Error(), "imports from") {
		t.Errorf("a module importing %s itself: %v, want ErrNotInstrumentable", YieldModule, err)
	}
	for n := 9; n < len(loopModule); n++ {
		if _, err := Module(loopModule[:n]); err == nil && CheckSections(loopModule[:n]) != nil {
			t.Errorf("Module accepted %d bytes that do not parse", n)
		}
	}
}
