// Package instrument rewrites a WebAssembly module so that a host can stop it: it adds a fuel
// counter and checks that call an imported host function, YieldModule.YieldName, at least once
// every FuelInterval checks, whatever the module does. host/wasmhost instruments every untrusted
// module before compiling it; the package is a library of its own, self-contained, as wazero
// keeps its machinery under internal/.
package instrument

import (
	"errors"
	"fmt"
	"strings"
)

// The call deadline of an untrusted module is enforced by instrumenting the module before it is
// compiled. Module adds one mutable i32 global, the fuel, and one imported host function,
// yield (YieldModule.YieldName), and puts a check at the entry of every function and at the head
// of every loop:
//
//	global.get $fuel
//	i32.eqz
//	if
//	  call $yield          ;; into Go: traps if the call is past its deadline
//	  i32.const FuelInterval
//	  global.set $fuel
//	end
//	global.get $fuel
//	i32.const 1
//	i32.sub
//	global.set $fuel
//
// A guest can only run for long by looping or by calling (recursion, tail calls, a tree of
// calls), and each of those passes a check, so it calls yield at least once every FuelInterval
// checks, whatever it does. The check itself stays in native code; the call into Go is what
// matters: the Go runtime cannot preempt a goroutine running compiled wasm, so without it a
// garbage collection's stop-the-world waits for the guest to return — for ever, for a looping
// guest — and the whole process stops with it (wazero's own WithCloseOnContextDone exits to Go
// at every loop head for the same reason, at a cost of several times the guest's speed). yield
// returns at once unless the instance's watchdog has fired, and then traps, which discards the
// instance. A call past its deadline so stops within one interval of guest work, and so does a
// stop-the-world wait.
//
// The guest's code cannot reach the fuel: it is a new global, and instrument refuses a module
// whose code names a global index that did not exist before (such a module is invalid anyway).
// Defined functions move up one index behind the new import; instrument renumbers every
// reference (calls, ref.func, exports, the start function, element segments, global
// initialisers, the name section). It refuses what it does not understand — an instruction
// outside the features wazero compiles, a malformed section, a module that imports from
// YieldModule itself — and Compile then refuses an untrusted module with that reason.

// The host function instrumented code calls every FuelInterval checks.
const (
	YieldModule = "dockyard:sandbox"
	YieldName   = "yield"
)

// FuelInterval is the number of checks between two calls of yield: a tight guest loop runs
// about 20 µs between two of them, a Go guest's code about as long; a yield costs about 0.1 µs.
const FuelInterval = 1 << 14

// ErrNotInstrumentable wraps every reason Module gives up.
var ErrNotInstrumentable = errors.New("cannot instrument the module")

// Section ids.
const (
	secCustom  = 0
	secType    = 1
	secImport  = 2
	secTable   = 4
	secGlobal  = 6
	secExport  = 7
	secStart   = 8
	secElement = 9
	secCode    = 10
)

// sectionOrder gives each known section id its place in a module; sections must appear in
// this order (custom sections anywhere).
var sectionOrder = map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}

type wasmSection struct {
	id      byte
	content []byte
}

// instrumenter holds what instrument learns of the module before it rewrites it.
type instrumenter struct {
	types         uint32 // function types; the yield type is number types
	importedFuncs uint32 // the yield import is function number importedFuncs
	globals       uint32 // imported and defined; the fuel is global number globals
	check         []byte

	// The largest of what the compile bounds limit, seen so far.
	maxDepth, maxTargets uint32
}

// Bounds on what makes wazero's compiler slow or hungry, checked as instrument walks the code:
// a br_table of about a million targets took 182 s and 2.4 GB to compile, 300 KB of nested
// blocks 43 s. The Go and C guests of this project stay far below each (TestCompileBounds).
const (
	maxFunctions    = 1 << 17 // function bodies in a module
	maxNesting      = 1 << 12 // blocks, loops and ifs open at once in one function
	maxBrTable      = 1 << 14 // targets of one br_table
	maxTableEntries = 1 << 20 // the initial size of a table
)

// remap gives a function's index after the yield import is added.
func (x *instrumenter) remap(f uint32) uint32 {
	if f >= x.importedFuncs {
		return f + 1
	}
	return f
}

// Module returns wasm with the fuel, the yield import and their checks (see above), or an
// error wrapping ErrNotInstrumentable.
func Module(wasm []byte) ([]byte, error) {
	out, _, err := instrumentModule(wasm)
	return out, err
}

// Shape is what Measure found of a module: its deepest nesting of blocks in one function and
// its largest br_table, which the compiler's time and memory grow with.
type Shape struct {
	MaxDepth, MaxBrTable int
}

// The bounds Module enforces, beyond which a module is refused before it reaches the compiler.
const (
	MaxNesting      = maxNesting
	MaxBrTable      = maxBrTable
	MaxTableEntries = maxTableEntries
)

// Measure instruments wasm as Module does and returns its Shape.
func Measure(wasm []byte) (Shape, error) {
	_, x, err := instrumentModule(wasm)
	if err != nil {
		return Shape{}, err
	}
	return Shape{MaxDepth: int(x.maxDepth), MaxBrTable: int(x.maxTargets)}, nil
}

// Check returns the code of one check, as Module inserts it, on the fuel global of index fuel
// calling the function of index yield.
func Check(fuel, yield uint32) []byte { return appendCheck(nil, fuel, yield) }

// CheckSections parses wasm's section headers: nil for a sequence of whole sections in order.
func CheckSections(wasm []byte) error {
	_, err := parseSections(wasm)
	return err
}

// instrumentModule is Module, also returning what it measured of the module.
func instrumentModule(wasm []byte) ([]byte, *instrumenter, error) {
	secs, err := parseSections(wasm)
	if err != nil {
		return nil, nil, err
	}
	x := &instrumenter{}
	var definedGlobals uint32
	last := 0
	for _, s := range secs {
		if s.id == secCustom {
			continue
		}
		order, ok := sectionOrder[s.id]
		if !ok || order <= last {
			return nil, nil, notInstrumentable("section %d is unknown or out of order", s.id)
		}
		last = order
		r := reader{b: s.content}
		switch s.id {
		case secType:
			x.types = r.u32()
		case secImport:
			if x.importedFuncs, x.globals, err = countImports(s.content); err != nil {
				return nil, nil, err
			}
		case secGlobal:
			definedGlobals = r.u32()
		case secTable:
			err = checkTables(s.content)
		}
		if err != nil {
			return nil, nil, err
		}
		if r.err != nil {
			return nil, nil, notInstrumentable("section %d: %v", s.id, r.err)
		}
	}
	x.globals += definedGlobals
	fuel := x.globals
	x.check = appendCheck(nil, fuel, x.importedFuncs)

	out := make([]byte, 0, len(wasm)+len(wasm)/4) // checks add a few percent to code
	out = append(out, wasm[:8]...)
	emit := func(id byte, content []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(content)))
		out = append(out, content...)
	}
	// The sections instrument adds to, created where they belong if the module has none.
	added := map[byte]func(){
		secType:   func() { emit(secType, appendYieldType(appendU32(nil, 1))) },
		secImport: func() { emit(secImport, appendYieldImport(appendU32(nil, 1), x.types)) },
		secGlobal: func() { emit(secGlobal, appendFuel(appendU32(nil, 1))) },
	}
	addMissing := func(before int) {
		for _, id := range []byte{secType, secImport, secGlobal} {
			if add := added[id]; add != nil && sectionOrder[id] < before {
				add()
				delete(added, id)
			}
		}
	}
	for _, s := range secs {
		if s.id != secCustom {
			addMissing(sectionOrder[s.id])
			delete(added, s.id)
		}
		var content []byte
		switch s.id {
		case secType:
			r := reader{b: s.content}
			r.u32()
			content = appendYieldType(append(appendU32(nil, x.types+1), s.content[r.off:]...))
		case secImport:
			r := reader{b: s.content}
			n := r.u32()
			content = appendYieldImport(append(appendU32(nil, n+1), s.content[r.off:]...), x.types)
		case secGlobal:
			content, err = x.rewriteGlobals(s.content)
		case secExport:
			content, err = x.rewriteExports(s.content)
		case secStart:
			r := reader{b: s.content}
			f := r.u32()
			if r.err != nil || r.off != len(s.content) {
				return nil, nil, notInstrumentable("start section: %v", r.errOr("trailing bytes"))
			}
			content = appendU32(nil, x.remap(f))
		case secElement:
			content, err = x.rewriteElements(s.content)
		case secCode:
			// Written in place, after a size padded to five bytes (LEB128 allows it) and
			// filled in once known.
			out = append(out, secCode, 0x80, 0x80, 0x80, 0x80, 0x00)
			start := len(out)
			if out, err = x.instrumentCode(out, s.content); err != nil {
				return nil, nil, err
			}
			putPaddedU32(out[start-5:start], uint32(len(out)-start))
			continue
		case secCustom:
			switch name, _ := customName(s.content); {
			case strings.HasPrefix(name, ".debug_"):
				continue // DWARF addresses code offsets, which instrumenting moves
			case name == "name":
				if content = x.rewriteNames(s.content); content == nil {
					continue // malformed: names are optional, so drop them
				}
			default:
				content = s.content
			}
		default:
			content = s.content
		}
		if err != nil {
			return nil, nil, err
		}
		emit(s.id, content)
	}
	addMissing(len(sectionOrder) + 1)
	return out, x, nil
}

func notInstrumentable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotInstrumentable, fmt.Sprintf(format, args...))
}

// appendCheck appends the check (see above) for global fuel and function yield.
func appendCheck(dst []byte, fuel, yield uint32) []byte {
	getFuel := appendU32([]byte{opGlobalGet}, fuel)
	setFuel := appendU32([]byte{opGlobalSet}, fuel)
	dst = append(dst, getFuel...)
	dst = append(dst, 0x45, 0x04, 0x40) // i32.eqz, if (no result)
	dst = appendU32(append(dst, opCall), yield)
	dst = appendS32(append(dst, 0x41), FuelInterval) // i32.const
	dst = append(dst, setFuel...)
	dst = append(dst, 0x0b) // end
	dst = append(dst, getFuel...)
	dst = append(dst, 0x41, 0x01, 0x6b) // i32.const 1, i32.sub
	return append(dst, setFuel...)
}

// appendYieldType appends the type () -> () to a type section's entries.
func appendYieldType(dst []byte) []byte { return append(dst, 0x60, 0x00, 0x00) }

// appendYieldImport appends the import of yield, of type number typ, to an import section's
// entries.
func appendYieldImport(dst []byte, typ uint32) []byte {
	dst = appendU32(dst, uint32(len(YieldModule)))
	dst = append(dst, YieldModule...)
	dst = appendU32(dst, uint32(len(YieldName)))
	dst = append(dst, YieldName...)
	return appendU32(append(dst, 0x00), typ)
}

// appendFuel appends the fuel, (mut i32) initialised to FuelInterval, to a global section's
// entries.
func appendFuel(dst []byte) []byte {
	dst = append(dst, 0x7f, 0x01, 0x41)
	return append(appendS32(dst, FuelInterval), 0x0b)
}

// parseSections splits a module into its sections.
func parseSections(wasm []byte) ([]wasmSection, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" || string(wasm[4:8]) != "\x01\x00\x00\x00" {
		return nil, notInstrumentable("not a version 1 WebAssembly binary")
	}
	r := reader{b: wasm, off: 8}
	var secs []wasmSection
	for r.off < len(r.b) && r.err == nil {
		id := r.byte()
		n := r.u32()
		content := r.bytes(int(n))
		if r.err == nil {
			secs = append(secs, wasmSection{id, content})
		}
	}
	if r.err != nil {
		return nil, notInstrumentable("section at offset %d: %v", r.off, r.err)
	}
	return secs, nil
}

// customName returns the name of a custom section.
func customName(content []byte) (string, bool) {
	r := reader{b: content}
	n := r.u32()
	name := r.bytes(int(n))
	return string(name), r.err == nil
}

// countImports returns how many functions and globals an import section imports, refusing a
// module that imports from YieldModule itself.
func countImports(content []byte) (funcs, globals uint32, err error) {
	r := reader{b: content}
	for n := r.u32(); n > 0 && r.err == nil; n-- {
		if mod := r.bytes(int(r.u32())); string(mod) == YieldModule {
			return 0, 0, notInstrumentable("the module imports from %q itself", YieldModule)
		}
		r.bytes(int(r.u32())) // name
		switch kind := r.byte(); kind {
		case 0x00: // func: type index
			r.u32()
			funcs++
		case 0x01: // table: reference type, limits
			r.byte()
			r.limits()
		case 0x02: // memory: limits
			r.limits()
		case 0x03: // global: value type, mutability
			r.valType()
			r.byte()
			globals++
		case 0x04: // tag: attribute, type index
			r.byte()
			r.u32()
		default:
			r.fail("import kind %#x", kind)
		}
	}
	if r.err != nil || r.off != len(content) {
		return 0, 0, notInstrumentable("import section: %v", r.errOr("trailing bytes"))
	}
	return funcs, globals, nil
}

// checkTables refuses a table whose initial size is over maxTableEntries (wazero allocates it
// at instantiation).
func checkTables(content []byte) error {
	r := reader{b: content}
	for n := r.u32(); n > 0 && r.err == nil; n-- {
		r.byte() // reference type
		flags := r.byte()
		if flags&0x04 != 0 {
			r.fail("64-bit table")
		}
		if min := r.leb(10); min > maxTableEntries {
			return notInstrumentable("a table of %d entries, over the limit of %d", min, maxTableEntries)
		}
		if flags&0x01 != 0 {
			r.leb(10) // maximum
		}
	}
	if r.err != nil {
		return notInstrumentable("table section: %v", r.err)
	}
	return nil
}
