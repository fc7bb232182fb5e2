package instrument

import "fmt"

// The rewriting of each section instrument changes: code bodies get their checks, and every
// reference to a defined function moves up one index behind the yield import.

// rewriteGlobals renumbers the functions the global initialisers name and appends the fuel.
func (x *instrumenter) rewriteGlobals(content []byte) ([]byte, error) {
	r := reader{b: content}
	n := r.u32()
	out := appendU32(nil, n+1)
	for i := uint32(0); i < n && r.err == nil; i++ {
		at := r.off
		r.valType()
		r.byte() // mutability
		out = append(out, content[at:r.off]...)
		out = x.constExpr(out, &r)
	}
	if r.err != nil || r.off != len(content) {
		return nil, notInstrumentable("global section: %v", r.errOr("trailing bytes"))
	}
	return appendFuel(out), nil
}

// rewriteExports renumbers exported functions, refusing an export of a global the module does
// not have (after instrumenting, it would be the fuel).
func (x *instrumenter) rewriteExports(content []byte) ([]byte, error) {
	r := reader{b: content}
	n := r.u32()
	out := appendU32(nil, n)
	for i := uint32(0); i < n && r.err == nil; i++ {
		at := r.off
		name := r.bytes(int(r.u32()))
		kind := r.byte()
		out = append(out, content[at:r.off]...)
		idx := r.u32()
		switch kind {
		case 0x00:
			idx = x.remap(idx)
		case 0x03:
			if idx >= x.globals {
				return nil, notInstrumentable("export %q names global %d, which does not exist", name, idx)
			}
		}
		out = appendU32(out, idx)
	}
	if r.err != nil || r.off != len(content) {
		return nil, notInstrumentable("export section: %v", r.errOr("trailing bytes"))
	}
	return out, nil
}

// rewriteElements renumbers the functions of every element segment, in each of its eight
// encodings (flag bit 0: passive or declarative, bit 1: explicit table or declarative, bit 2:
// expressions instead of function indices).
func (x *instrumenter) rewriteElements(content []byte) ([]byte, error) {
	r := reader{b: content}
	n := r.u32()
	out := appendU32(nil, n)
	for i := uint32(0); i < n && r.err == nil; i++ {
		flags := r.u32()
		if flags > 7 {
			return nil, notInstrumentable("element segment flags %d", flags)
		}
		out = appendU32(out, flags)
		if flags&1 == 0 { // active: table (if bit 1), offset
			if flags&2 != 0 {
				out = appendU32(out, r.u32())
			}
			out = x.constExpr(out, &r)
		}
		if flags&3 != 0 { // element kind or reference type
			out = append(out, r.byte())
		}
		m := r.u32()
		out = appendU32(out, m)
		for j := uint32(0); j < m && r.err == nil; j++ {
			if flags&4 == 0 {
				out = appendU32(out, x.remap(r.u32()))
			} else {
				out = x.constExpr(out, &r)
			}
		}
	}
	if r.err != nil || r.off != len(content) {
		return nil, notInstrumentable("element section: %v", r.errOr("trailing bytes"))
	}
	return out, nil
}

// constExpr copies a constant expression from r to out, renumbering ref.func.
func (x *instrumenter) constExpr(out []byte, r *reader) []byte {
	for r.err == nil {
		at := r.off
		switch op := r.byte(); op {
		case 0x0b: // end
			return append(out, op)
		case opRefFunc:
			out = appendU32(append(out, op), x.remap(r.u32()))
			continue
		case opGlobalGet:
			if idx := r.u32(); idx >= x.globals {
				r.fail("global %d does not exist", idx)
			}
		case 0x41, 0x42, 0x43, 0x44, 0xd0: // constants, ref.null
			r.skipImmediates(op)
		case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e: // extended constants: add, sub, mul
		case 0xfd: // v128.const
			if sub := r.u32(); sub != 12 {
				r.fail("op code 0xfd %d in a constant expression", sub)
			}
			r.bytes(16)
		default:
			r.fail("op code %#x in a constant expression", op)
		}
		if r.err == nil {
			out = append(out, r.b[at:r.off]...)
		}
	}
	return out
}

// rewriteNames renumbers the function names of a "name" section and drops what it cannot keep:
// label names (the checks add blocks, which moves label numbers) and subsections it does not
// know. It returns nil for a malformed section.
func (x *instrumenter) rewriteNames(content []byte) []byte {
	r := reader{b: content}
	r.bytes(int(r.u32())) // "name"
	out := append([]byte(nil), content[:r.off]...)
	for r.off < len(content) && r.err == nil {
		id := r.byte()
		sub := reader{b: r.bytes(int(r.u32()))}
		var payload []byte
		switch id {
		case 0, 4, 5, 6, 7, 8, 9: // module, types, tables, memories, globals, elements, data
			payload = sub.b
		case 1: // function names: a name map keyed by function
			payload = x.remapNameMap(&sub, false)
		case 2: // local names: an indirect name map keyed by function
			payload = x.remapNameMap(&sub, true)
		default:
			continue
		}
		if (id == 1 || id == 2) && (sub.err != nil || sub.off != len(sub.b)) {
			return nil
		}
		out = append(out, id)
		out = appendU32(out, uint32(len(payload)))
		out = append(out, payload...)
	}
	if r.err != nil {
		return nil
	}
	return out
}

// remapNameMap copies a name map (or, if indirect, a map of name maps) keyed by function
// index, renumbering the keys.
func (x *instrumenter) remapNameMap(r *reader, indirect bool) []byte {
	n := r.u32()
	out := appendU32(nil, n)
	for i := uint32(0); i < n && r.err == nil; i++ {
		out = appendU32(out, x.remap(r.u32()))
		at := r.off
		if indirect {
			for m := r.u32(); m > 0 && r.err == nil; m-- {
				r.u32()
				r.bytes(int(r.u32()))
			}
		} else {
			r.bytes(int(r.u32()))
		}
		out = append(out, r.b[at:r.off]...)
	}
	return out
}

// instrumentCode appends to out the content of a code section with the checks added to every
// function body.
func (x *instrumenter) instrumentCode(out, content []byte) ([]byte, error) {
	r := reader{b: content}
	n := r.u32()
	if n > maxFunctions {
		return nil, notInstrumentable("%d functions, over the limit of %d", n, maxFunctions)
	}
	out = appendU32(out, n)
	var body []byte
	for i := uint32(0); i < n && r.err == nil; i++ {
		size := r.u32()
		code := r.bytes(int(size))
		if r.err != nil {
			break
		}
		var err error
		if body, err = x.instrumentBody(body[:0], code); err != nil {
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
// starts with a loop, whose check comes first anyway) and at the head of every loop, and with
// its function references renumbered. A tail call needs no check of its own: it enters a
// function.
func (x *instrumenter) instrumentBody(dst, code []byte) ([]byte, error) {
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
		dst = append(dst, x.check...)
	}
	depth := uint32(1) // the function's own block
	for r.off < len(code) && r.err == nil {
		at := r.off
		op := code[at]
		r.off++
		if op == 0x0b { // end
			depth--
			continue
		}
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
		case 0x02, 0x04, 0x1f: // block, if, try_table
			if depth++; depth > maxNesting {
				r.fail("blocks nested over %d deep", maxNesting)
			}
			x.maxDepth = max(x.maxDepth, depth)
			r.skipImmediates(op)
		case 0x0e: // br_table
			targets := r.u32()
			if targets > maxBrTable {
				r.fail("a br_table of %d targets, over the limit of %d", targets, maxBrTable)
			}
			x.maxTargets = max(x.maxTargets, targets)
			for ; targets > 0 && r.err == nil; targets-- {
				r.u32()
			}
			r.u32() // the default
		case opLoop:
			if depth++; depth > maxNesting {
				r.fail("blocks nested over %d deep", maxNesting)
			}
			x.maxDepth = max(x.maxDepth, depth)
			r.blockType()
			dst = append(dst, code[copied:r.off]...)
			dst = append(dst, x.check...)
			copied = r.off
		case opCall, opReturnCall, opRefFunc:
			f := r.u32()
			if f >= x.importedFuncs { // defined functions move up one
				dst = append(dst, code[copied:at+1]...)
				dst = appendU32(dst, f+1)
				copied = r.off
			}
		case opGlobalGet, opGlobalSet:
			if idx := r.u32(); r.err == nil && idx >= x.globals {
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
	opNoImmediate // numeric instructions, drop
	opOneLEB      // local.*, br, br_if, i32.const: one LEB128 number of at most 5 bytes
	opMemArg      // loads and stores
)

var opKinds = func() (k [256]uint8) {
	for op := 0x45; op <= 0xc4; op++ {
		k[op] = opNoImmediate
	}
	k[0x1a] = opNoImmediate
	for _, op := range []int{0x20, 0x21, 0x22, 0x0c, 0x0d, 0x41} {
		k[op] = opOneLEB
	}
	for op := 0x28; op <= 0x3e; op++ {
		k[op] = opMemArg
	}
	return k
}()

// Op codes instrument looks at.
const (
	opLoop       = 0x03
	opCall       = 0x10
	opReturnCall = 0x12
	opGlobalGet  = 0x23
	opGlobalSet  = 0x24
	opRefFunc    = 0xd2
)
