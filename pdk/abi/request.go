package abi

import (
	"encoding/binary"
	"fmt"
)

// AppendHello appends a HELLO operation carrying h as it is (NewClient fills in Major and
// Minor; a test may send others), or HELLO_READONLY for h.ReadOnly.
func (e *Encoder) AppendHello(h Hello) {
	e.AppendU8(uint8(h.op()))
	e.AppendU16(h.Major)
	e.AppendU16(h.Minor)
	e.AppendString(h.DSN)
	e.AppendBytes(h.Options)
}

// AppendBegin appends a BEGIN operation opening transaction tx.
func (e *Encoder) AppendBegin(tx uint32, writable bool) {
	e.AppendU8(uint8(OpBegin))
	e.AppendU32(tx)
	if writable {
		e.AppendU8(1)
	} else {
		e.AppendU8(0)
	}
}

// AppendGet appends a GET operation.
func (e *Encoder) AppendGet(tx uint32, ns, key string) { e.appendKeyOp(OpGet, tx, ns, key) }

// AppendDelete appends a DELETE operation.
func (e *Encoder) AppendDelete(tx uint32, ns, key string) { e.appendKeyOp(OpDelete, tx, ns, key) }

// AppendPut appends a PUT operation.
func (e *Encoder) AppendPut(tx uint32, ns, key string, value []byte) {
	e.appendKeyOp(OpPut, tx, ns, key)
	e.AppendBytes(value)
}

func (e *Encoder) appendKeyOp(op Op, tx uint32, ns, key string) {
	e.AppendU8(uint8(op))
	e.AppendU32(tx)
	e.AppendString(ns)
	e.AppendString(key)
}

// AppendScan appends a SCAN operation.
func (e *Encoder) AppendScan(tx uint32, ns, prefix, after string, limit uint32) {
	e.AppendU8(uint8(OpScan))
	e.AppendU32(tx)
	e.AppendString(ns)
	e.AppendString(prefix)
	e.AppendString(after)
	e.AppendU32(limit)
}

// AppendCommit appends a COMMIT operation.
func (e *Encoder) AppendCommit(tx uint32) { e.AppendU8(uint8(OpCommit)); e.AppendU32(tx) }

// AppendRollback appends a ROLLBACK operation.
func (e *Encoder) AppendRollback(tx uint32) { e.AppendU8(uint8(OpRollback)); e.AppendU32(tx) }

// AppendPing appends a PING operation.
func (e *Encoder) AppendPing() { e.AppendU8(uint8(OpPing)) }

// AppendClose appends a CLOSE operation.
func (e *Encoder) AppendClose() { e.AppendU8(uint8(OpClose)) }

// Encoded sizes of operations, for budgets.
const (
	sizeTxOp    = 1 + 4     // COMMIT, ROLLBACK
	sizeBegin   = 1 + 4 + 1 // BEGIN
	sizeKeyOp   = 1 + 4 + 4 + 4
	sizePutOp   = sizeKeyOp + 4
	sizeScanOp  = sizeKeyOp + 4 + 4
	sizeHelloOp = 1 + 2 + 2 + 4 + 4
)

// request is one decoded operation. Its byte strings alias the request frame.
type request struct {
	op             Op
	tx             uint32
	writable       bool
	ns, key, value []byte
	prefix, after  []byte
	limit          uint32
	major, minor   uint16
	dsn, options   []byte
	offset, index  int // where the operation starts in the frame, and its position
}

// decodeOp decodes the next operation of a request frame into r: its op code, its offset, and
// the fields of that op (the others keep what they held, and nothing reads them). It checks the
// layout and the values of fields that have a range (a BEGIN's id and flag, a SCAN's limit),
// not whether the operation makes sense in the session. r is filled in place, not returned:
// a request is large, and a WebAssembly guest copies large values by calling out of its code.
func decodeOp(d *Decoder, r *request) error {
	r.offset = d.Offset()
	r.op = Op(d.U8("op code"))
	switch r.op {
	case OpHello, OpHelloReadOnly:
		r.major = d.U16("major")
		r.minor = d.U16("minor")
		r.dsn = d.Bytes("dsn")
		r.options = d.Bytes("options")
	case OpBegin:
		r.tx = d.U32("tx")
		at := d.Offset()
		w := d.U8("writable")
		if d.ok() && w > 1 {
			d.Fail(&DecodeError{Offset: at, Msg: fmt.Sprintf("writable flag %d (want 0 or 1)", w)})
		}
		if d.ok() && r.tx == 0 {
			d.Fail(&DecodeError{Offset: r.offset + 1, Msg: "transaction id 0 (reserved)"})
		}
		r.writable = w == 1
	case OpGet, OpDelete, OpPut:
		r.tx = d.U32("tx")
		r.ns = d.Bytes("ns")
		r.key = d.Bytes("key")
		if r.op == OpPut {
			r.value = d.Bytes("value")
		}
	case OpScan:
		r.tx = d.U32("tx")
		r.ns = d.Bytes("ns")
		r.prefix = d.Bytes("prefix")
		r.after = d.Bytes("after")
		at := d.Offset()
		r.limit = d.U32("limit")
		if d.ok() && r.limit == 0 {
			d.Fail(&DecodeError{Offset: at, Msg: "scan limit 0 (want at least 1)"})
		}
	case OpCommit, OpRollback:
		r.tx = d.U32("tx")
	case OpPing, OpClose:
	default:
		if d.ok() {
			d.Fail(&DecodeError{Offset: r.offset, Msg: fmt.Sprintf("unknown op code %d", uint8(r.op))})
		}
	}
	return d.Err()
}

// header is a decoded frame header.
type header struct {
	major, minor uint16
	count        uint32
}

// decodeHeader reads a frame header and checks its magic. The version is the caller's to judge.
func decodeHeader(d *Decoder, magic [4]byte, kind string) (h header, err error) {
	if d.Len() < HeaderSize {
		return h, &DecodeError{Offset: 0, Msg: fmt.Sprintf("%s frame of %d bytes is shorter than the %d-byte header", kind, d.Len(), HeaderSize)}
	}
	if d.failed {
		return h, d.Err()
	}
	// The length is checked: the header's fields are read straight from the frame, not one
	// checked read at a time (every crossing decodes two headers).
	b := d.buf[d.off : d.off+HeaderSize]
	if m := [4]byte(b); m != magic {
		return h, &DecodeError{Offset: 0, Msg: fmt.Sprintf("bad %s magic %q (want %q)", kind, string(m[:]), string(magic[:]))}
	}
	h = header{major: binary.LittleEndian.Uint16(b[4:]), minor: binary.LittleEndian.Uint16(b[6:]), count: binary.LittleEndian.Uint32(b[8:])}
	d.off += HeaderSize
	return h, nil
}

// checkRequest decodes every operation of a request frame whose header d has read, without
// executing any: a malformed frame is refused whole, before anything happens. It leaves d past
// the last operation. The first len(keep) operations are decoded into keep, for the caller to
// run without decoding them again, the others into spare; resume is the offset of the first
// operation not kept (the frame's end if all were).
func checkRequest(d *Decoder, count uint32, keep []request, spare *request) (resume int, err error) {
	// Every operation takes at least its op code byte, so a count above the bytes left cannot
	// be honest; refusing it here also bounds the loop below.
	if uint64(count) > uint64(d.Len()) {
		return 0, &DecodeError{Offset: 8, Msg: fmt.Sprintf("count %d exceeds what the %d bytes after the header can hold", count, d.Len())}
	}
	for i := 0; i < int(count); i++ {
		r := spare
		if i < len(keep) {
			r = &keep[i]
		} else if i == len(keep) {
			resume = d.Offset()
		}
		if err := decodeOp(d, r); err != nil {
			return 0, fmt.Errorf("op %d (%s): %w", i, r.op, err)
		}
	}
	if d.Len() != 0 {
		return 0, &DecodeError{Offset: d.Offset(), Msg: fmt.Sprintf("%d trailing bytes after the last of %d operations", d.Len(), count)}
	}
	if int(count) <= len(keep) {
		resume = d.Offset()
	}
	return resume, nil
}

// op is the op code of the HELLO that sends h.
func (h Hello) op() Op {
	if h.ReadOnly {
		return OpHelloReadOnly
	}
	return OpHello
}
