package wasm

import (
	"errors"
	"fmt"
	"strings"
)

// The call deadline of an untrusted module is enforced by instrumenting the module before it is
// compiled, the way wasmtime's epoch interruption works: instrument adds one mutable i32 global,
// the stop flag, exported as stopExport, and makes the code test it at the entry of every
// function, at the head of every loop and before every tail call:
//
//	global.get $stop
//	if
//	  unreachable
//	end
//
// A guest can only run for long by looping, recursing or tail-calling, and each of those passes
// a check. The host's watchdog sets the flag when a call passes its deadline; the guest traps at
// its next check, and the host discards the instance. The check costs a load, a test and a
// branch, all in native code. wazero's own mechanism, WithCloseOnContextDone, checks only at loop
// heads, but each of its checks leaves native code for Go (and every jump of a Go guest goes
// through a loop head), and it starts a goroutine for each call; see the package documentation
// for what that costs.
//
// No code of the guest can reach the flag: it is a new global, and instrument refuses a module
// whose code names a global index that did not exist before (such a module is invalid anyway;
// after instrumenting, it could clear the flag). It also refuses what it does not understand —
// an instruction outside the features wazero compiles, a start section (which would run during
// instantiation, before the host holds the flag), a malformed section — and the host then
// compiles the module as it is, with WithCloseOnContextDone.

// stopExport is the name under which an instrumented module exports its stop flag.
const stopExport = "dockyard:stop"

// errNotInstrumentable wraps every reason instrument gives up.
var errNotInstrumentable = errors.New("cannot instrument the module")

// Section ids.
const (
	secCustom = 0
	secImport = 2
	secGlobal = 6
	secExport = 7
	secStart  = 8
	secCode   = 10
)

type wasmSection struct {
	id      byte
	content []byte
}

// instrument returns wasm with the stop flag and its checks (see above), or an error wrapping
// errNotInstrumentable.
func instrument(wasm []byte) ([]byte, error) {
	secs, err := parseSections(wasm)
	if err != nil {
		return nil, err
	}
	var importedGlobals, definedGlobals uint32
	for _, s := range secs {
		switch s.id {
		case secStart:
			return nil, notInstrumentable("the module has a start section")
		case secImport:
			if importedGlobals, err = countImportedGlobals(s.content); err != nil {
				return nil, err
			}
		case secGlobal:
			r := reader{b: s.content}
			definedGlobals = r.u32()
			if r.err != nil {
				return nil, notInstrumentable("global section: %v", r.err)
			}
		}
	}
	stop := importedGlobals + definedGlobals // the new global's index
	check := append(append([]byte{0x23}, appendU32(nil, stop)...), 0x04, 0x40, 0x00, 0x0b)

	out := make([]byte, 0, len(wasm)+len(wasm)/8) // checks add a few percent
	out = append(out, wasm[:8]...)
	addedGlobal, addedExport := false, false
	emit := func(id byte, content []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(content)))
		out = append(out, content...)
	}
	// The global section (and the export section, if the module had none) go before the first
	// section that must follow them.
	addGlobal := func() {
		emit(secGlobal, appendStopGlobal(appendU32(nil, 1), nil))
		addedGlobal = true
	}
	addExport := func() {
		emit(secExport, appendStopExport(appendU32(nil, 1), stop))
		addedExport = true
	}
	for _, s := range secs {
		if !addedGlobal && (s.id == secExport || followsExports(s.id)) {
			addGlobal()
		}
		if !addedExport && followsExports(s.id) {
			addExport()
		}
		switch s.id {
		case secGlobal:
			r := reader{b: s.content}
			r.u32()
			emit(secGlobal, appendStopGlobal(appendU32(nil, definedGlobals+1), s.content[r.off:]))
			addedGlobal = true
		case secExport:
			content, err := instrumentExports(s.content, stop)
			if err != nil {
				return nil, err
			}
			emit(secExport, content)
			addedExport = true
		case secCode:
			// Written in place, after a size padded to five bytes (LEB128 allows it) and
			// filled in once known.
			out = append(out, secCode, 0x80, 0x80, 0x80, 0x80, 0x00)
			start := len(out)
			if out, err = instrumentCode(out, s.content, check, stop); err != nil {
				return nil, err
			}
			putPaddedU32(out[start-5:start], uint32(len(out)-start))
		case secCustom:
			if name, _ := customName(s.content); strings.HasPrefix(name, ".debug_") {
				continue // DWARF addresses code offsets, which instrumenting moves
			}
			emit(s.id, s.content)
		default:
			emit(s.id, s.content)
		}
	}
	if !addedGlobal {
		addGlobal()
	}
	if !addedExport {
		addExport()
	}
	return out, nil
}

func notInstrumentable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errNotInstrumentable, fmt.Sprintf(format, args...))
}

// followsExports reports whether a section with this id comes after the global and export
// sections: start, element, data count, code, data.
func followsExports(id byte) bool {
	switch id {
	case 8, 9, 10, 11, 12:
		return true
	}
	return false
}

// appendStopGlobal appends a global section's content: its count (already in dst), the
// existing globals, then the stop flag, (mut i32) initialised to 0.
func appendStopGlobal(dst, existing []byte) []byte {
	dst = append(dst, existing...)
	return append(dst, 0x7f, 0x01, 0x41, 0x00, 0x0b)
}

// appendStopExport appends the export of global stop.
func appendStopExport(dst []byte, stop uint32) []byte {
	dst = appendU32(dst, uint32(len(stopExport)))
	dst = append(dst, stopExport...)
	dst = append(dst, 0x03)
	return appendU32(dst, stop)
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

// countImportedGlobals returns how many globals an import section imports.
func countImportedGlobals(content []byte) (uint32, error) {
	r := reader{b: content}
	var globals uint32
	for n := r.u32(); n > 0 && r.err == nil; n-- {
		r.bytes(int(r.u32())) // module
		r.bytes(int(r.u32())) // name
		switch kind := r.byte(); kind {
		case 0x00: // func: type index
			r.u32()
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
		return 0, notInstrumentable("import section: %v", r.errOr("trailing bytes"))
	}
	return globals, nil
}

// instrumentExports appends the stop flag's export to an export section, refusing a module
// that already exports the name or exports a global it does not have.
func instrumentExports(content []byte, stop uint32) ([]byte, error) {
	r := reader{b: content}
	n := r.u32()
	start := r.off
	for i := uint32(0); i < n && r.err == nil; i++ {
		name := r.bytes(int(r.u32()))
		kind := r.byte()
		idx := r.u32()
		switch {
		case string(name) == stopExport:
			return nil, notInstrumentable("the module exports %q itself", stopExport)
		case kind == 0x03 && idx >= stop:
			return nil, notInstrumentable("export %q names global %d, which does not exist", name, idx)
		}
	}
	if r.err != nil || r.off != len(content) {
		return nil, notInstrumentable("export section: %v", r.errOr("trailing bytes"))
	}
	out := appendU32(nil, n+1)
	out = append(out, content[start:]...)
	return appendStopExport(out, stop), nil
}

// instrumentCode appends to out the content of a code section with the checks added to every
// function body.
func instrumentCode(out, content, check []byte, stop uint32) ([]byte, error) {
	r := reader{b: content}
	n := r.u32()
	out = appendU32(out, n)
	var body []byte
	for i := uint32(0); i < n && r.err == nil; i++ {
		size := r.u32()
		code := r.bytes(int(size))
		if r.err != nil {
			break
		}
		var err error
		if body, err = instrumentBody(body[:0], code, check, stop); err != nil {
			return nil, fmt.Errorf("%w (function body %d)", err, i)
		}
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	if r.err != nil || r.off != len(content) {
		return nil, notInstrumentable("code section: %v", r.errOr("trailing bytes"))
	}
	return out, nil
}

// instrumentBody appends to dst the function body code with a check at its entry (unless it
// starts with a loop, whose check comes first anyway), at the head of every loop and before
// every tail call.
func instrumentBody(dst, code, check []byte, stop uint32) ([]byte, error) {
	r := reader{b: code}
	for n := r.u32(); n > 0 && r.err == nil; n-- { // local declarations
		r.u32()
		r.valType()
	}
	if r.err != nil {
		return nil, notInstrumentable("locals: %v", r.err)
	}
	copied := r.off
	dst = append(dst, code[:copied]...)
	if r.off < len(code) && code[r.off] != opLoop {
		dst = append(dst, check...)
	}
	for r.off < len(code) && r.err == nil {
		at := r.off
		op := code[at]
		r.off++
		// The commonest instructions first, without the reader's calls (a compiler's output is
		// mostly these).
		switch opKinds[op] {
		case opNoImmediate:
			continue
		case opOneLEB:
			if r.off < len(code) && code[r.off] < 0x80 {
				r.off++
			} else {
				r.leb(5)
			}
			continue
		case opMemArg:
			if r.off+1 < len(code) && code[r.off] < 0x40 && code[r.off+1] < 0x80 {
				r.off += 2 // one-byte alignment and offset
				continue
			}
		}
		switch op {
		case opLoop:
			r.blockType()
			dst = append(dst, code[copied:r.off]...)
			dst = append(dst, check...)
			copied = r.off
		case opReturnCall, opReturnCallIndirect:
			dst = append(dst, code[copied:at]...)
			dst = append(dst, check...)
			copied = at
			r.u32()
			if op == opReturnCallIndirect {
				r.u32()
			}
		case opGlobalGet, opGlobalSet:
			if idx := r.u32(); r.err == nil && idx >= stop {
				r.fail("global %d does not exist", idx)
			}
		default:
			r.skipImmediates(op)
		}
	}
	if r.err != nil {
		return nil, notInstrumentable("instruction at offset %d of a function body: %v", r.off, r.err)
	}
	return append(dst, code[copied:]...), nil
}

// Kinds of instructions instrumentBody skips without the reader's calls; the others (kind 0)
// go through skipImmediates or instrumentBody's own cases.
const (
	opOther       = iota
	opNoImmediate // numeric instructions, end, drop
	opOneLEB      // local.*, br, br_if, call, i32.const: one LEB128 number of at most 5 bytes
	opMemArg      // loads and stores
)

var opKinds = func() (k [256]uint8) {
	for op := 0x45; op <= 0xc4; op++ {
		k[op] = opNoImmediate
	}
	k[0x0b], k[0x1a] = opNoImmediate, opNoImmediate
	for _, op := range []int{0x20, 0x21, 0x22, 0x0c, 0x0d, 0x10, 0x41} {
		k[op] = opOneLEB
	}
	for op := 0x28; op <= 0x3e; op++ {
		k[op] = opMemArg
	}
	return k
}()

// Op codes instrumentBody looks at.
const (
	opLoop               = 0x03
	opReturnCall         = 0x12
	opReturnCallIndirect = 0x13
	opGlobalGet          = 0x23
	opGlobalSet          = 0x24
)

// reader decodes the binary format. The first failure is kept in err; later reads return zero.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

func (r *reader) errOr(msg string) error {
	if r.err != nil {
		return r.err
	}
	return errors.New(msg)
}

func (r *reader) byte() byte {
	if r.off < len(r.b) && r.err == nil {
		r.off++
		return r.b[r.off-1]
	}
	r.end()
	return 0
}

// end records that the input ended too soon.
func (r *reader) end() { r.fail("unexpected end") }

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b)-r.off {
		r.fail("unexpected end")
		return nil
	}
	b := r.b[r.off : r.off+n]
	r.off += n
	return b
}

// leb reads an LEB128 number of at most maxBytes bytes and returns its low 64 bits.
func (r *reader) leb(maxBytes int) uint64 {
	var v uint64
	for i := 0; i < maxBytes; i++ {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		if i < 10 {
			v |= uint64(c&0x7f) << (7 * i)
		}
		if c&0x80 == 0 {
			return v
		}
	}
	r.fail("LEB128 number longer than %d bytes", maxBytes)
	return 0
}

func (r *reader) u32() uint32 {
	if r.err == nil && r.off < len(r.b) && r.b[r.off] < 0x80 { // most are one byte
		r.off++
		return uint32(r.b[r.off-1])
	}
	v := r.leb(5)
	if v > 1<<32-1 {
		r.fail("u32 out of range")
	}
	return uint32(v)
}

func (r *reader) limits() {
	flags := r.byte()
	if flags > 0x07 {
		r.fail("limits flags %#x", flags)
	}
	r.leb(10)
	if flags&0x01 != 0 {
		r.leb(10)
	}
}

// valType reads a value type of the features wazero compiles: a number, v128, funcref or
// externref.
func (r *reader) valType() {
	switch t := r.byte(); t {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
	default:
		r.fail("value type %#x", t)
	}
}

// blockType reads a block type: empty, one value type, or a type index (s33).
func (r *reader) blockType() {
	if r.off < len(r.b) {
		switch r.b[r.off] {
		case 0x40, 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
			r.off++
			return
		}
	}
	r.leb(5)
}

func (r *reader) memArg() {
	align := r.u32()
	if align&0x40 != 0 {
		r.fail("multiple memories")
	}
	r.u32()
}

// skipImmediates reads the immediates of op, refusing op codes wazero does not compile.
func (r *reader) skipImmediates(op byte) {
	switch {
	case op == 0x00, op == 0x01, op == 0x05, op == 0x0a, op == 0x0b, op == 0x0f, op == 0x1a, op == 0x1b,
		op >= 0x45 && op <= 0xc4, op == 0xd1:
		// no immediates
	case op == 0x02, op == 0x04: // block, if
		r.blockType()
	case op == 0x08, op == 0x0c, op == 0x0d, op == 0x10, // throw, br, br_if, call
		op >= 0x20 && op <= 0x26, op == 0xd2: // local.*, global.*, table.get/set, ref.func
		r.u32()
	case op == 0x0e: // br_table
		for n := r.u32(); n > 0 && r.err == nil; n-- {
			r.u32()
		}
		r.u32()
	case op == 0x11: // call_indirect
		r.u32()
		r.u32()
	case op == 0x1c: // select with types
		for n := r.u32(); n > 0 && r.err == nil; n-- {
			r.valType()
		}
	case op == 0x1f: // try_table
		r.blockType()
		for n := r.u32(); n > 0 && r.err == nil; n-- {
			switch kind := r.byte(); kind {
			case 0x00, 0x01: // catch, catch_ref: tag, label
				r.u32()
				r.u32()
			case 0x02, 0x03: // catch_all, catch_all_ref: label
				r.u32()
			default:
				r.fail("catch kind %#x", kind)
			}
		}
	case op >= 0x28 && op <= 0x3e: // loads and stores
		r.memArg()
	case op == 0x3f, op == 0x40: // memory.size, memory.grow
		if m := r.u32(); m != 0 {
			r.fail("memory index %d", m)
		}
	case op == 0x41: // i32.const
		r.leb(5)
	case op == 0x42: // i64.const
		r.leb(10)
	case op == 0x43: // f32.const
		r.bytes(4)
	case op == 0x44: // f64.const
		r.bytes(8)
	case op == 0xd0: // ref.null
		r.byte()
	case op == 0xfc:
		r.skipMisc()
	case op == 0xfd:
		r.skipSIMD()
	case op == 0xfe:
		r.skipAtomic()
	default:
		r.fail("op code %#x", op)
	}
}

// skipMisc reads the rest of a 0xFC instruction: saturating truncations, bulk memory, tables.
func (r *reader) skipMisc() {
	switch sub := r.u32(); {
	case sub <= 7: // trunc_sat
	case sub == 8, sub == 10, sub == 12, sub == 14: // memory.init, memory.copy, table.init, table.copy
		r.u32()
		r.u32()
	case sub == 9, sub == 11, sub == 13, sub <= 17: // data.drop, memory.fill, elem.drop, table.grow/size/fill
		r.u32()
	default:
		r.fail("op code 0xfc %d", sub)
	}
}

// skipSIMD reads the rest of a 0xFD instruction.
func (r *reader) skipSIMD() {
	switch sub := r.u32(); {
	case sub <= 11, sub == 92, sub == 93: // loads and stores
		r.memArg()
	case sub == 12, sub == 13: // v128.const, i8x16.shuffle
		r.bytes(16)
	case sub >= 21 && sub <= 34: // extract and replace lane
		r.byte()
	case sub >= 84 && sub <= 91: // load and store lane
		r.memArg()
		r.byte()
	case sub <= 0xff:
		// no immediates
	default:
		r.fail("op code 0xfd %d", sub)
	}
}

// skipAtomic reads the rest of a 0xFE instruction.
func (r *reader) skipAtomic() {
	switch sub := r.u32(); {
	case sub == 0x03: // atomic.fence
		r.byte()
	case sub <= 0x02, sub >= 0x10 && sub <= 0x4e:
		r.memArg()
	default:
		r.fail("op code 0xfe %d", sub)
	}
}

// putPaddedU32 writes v into b as an unsigned LEB128 number of exactly five bytes.
func putPaddedU32(b []byte, v uint32) {
	for i := range 4 {
		b[i] = byte(v&0x7f) | 0x80
		v >>= 7
	}
	b[4] = byte(v)
}

// appendU32 appends v as an unsigned LEB128 number.
func appendU32(dst []byte, v uint32) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}
