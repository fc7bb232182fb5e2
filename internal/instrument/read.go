package instrument

import (
	"errors"
	"fmt"
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
	case op == 0x08, op == 0x0c, op == 0x0d, op == 0x10, op == 0x12, // throw, br, br_if, call, return_call
		op >= 0x20 && op <= 0x26, op == 0xd2: // local.*, global.*, table.get/set, ref.func
		r.u32()
	case op == 0x0e: // br_table
		for n := r.u32(); n > 0 && r.err == nil; n-- {
			r.u32()
		}
		r.u32()
	case op == 0x11, op == 0x13: // call_indirect, return_call_indirect
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

// appendS32 appends v as a signed LEB128 number.
func appendS32(dst []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(dst, c)
		}
		dst = append(dst, c|0x80)
	}
}
