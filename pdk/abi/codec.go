package abi

import (
	"encoding/binary"
	"fmt"
)

// Encoder appends the ABI's encodings (docs/abi.md, "Encoding") to a byte slice. It never
// allocates except to grow that slice, so a caller that reuses its buffer encodes frames with
// no allocation at all. The zero value appends to a nil slice.
//
// Lengths of byte strings must fit in a u32; callers bound their sizes first.
type Encoder struct {
	buf []byte
}

// NewEncoder returns an Encoder that appends to buf[:0].
func NewEncoder(buf []byte) Encoder { return Encoder{buf: buf[:0]} }

// Reset makes e append to buf[:0].
func (e *Encoder) Reset(buf []byte) { e.buf = buf[:0] }

// Bytes returns everything encoded so far. It aliases e's buffer.
func (e *Encoder) Bytes() []byte { return e.buf }

// Len returns how many bytes have been encoded.
func (e *Encoder) Len() int { return len(e.buf) }

// AppendU8 appends one byte.
func (e *Encoder) AppendU8(v uint8) { e.buf = append(e.buf, v) }

// AppendU16 appends v little-endian.
func (e *Encoder) AppendU16(v uint16) { e.buf = binary.LittleEndian.AppendUint16(e.buf, v) }

// AppendU32 appends v little-endian.
func (e *Encoder) AppendU32(v uint32) { e.buf = binary.LittleEndian.AppendUint32(e.buf, v) }

// AppendBytes appends b as a byte string: its length as a u32, then its bytes.
func (e *Encoder) AppendBytes(b []byte) {
	e.AppendU32(uint32(len(b)))
	e.buf = append(e.buf, b...)
}

// AppendString appends s as a byte string, exactly as AppendBytes would.
func (e *Encoder) AppendString(s string) {
	e.AppendU32(uint32(len(s)))
	e.buf = append(e.buf, s...)
}

// AppendHeader appends a frame header. A frame must start at the beginning of e's buffer for
// SetCount to find its count.
func (e *Encoder) AppendHeader(magic [4]byte, major, minor uint16, count uint32) {
	e.buf = append(e.buf, magic[:]...)
	e.AppendU16(major)
	e.AppendU16(minor)
	e.AppendU32(count)
}

// SetCount overwrites the count of the frame header at the start of e's buffer. It does
// nothing if no header has been appended.
func (e *Encoder) SetCount(n uint32) {
	if len(e.buf) >= HeaderSize {
		binary.LittleEndian.PutUint32(e.buf[8:HeaderSize], n)
	}
}

// Decoder reads the ABI's encodings from a frame, checking every read against the bytes
// present. The first read that does not fit records a *DecodeError (see Err); every later read
// returns a zero value. Byte strings it returns alias the frame; no read allocates.
//
// The reads are small enough to inline: a failed read only notes what failed, and Err builds
// the error from the note.
type Decoder struct {
	buf []byte
	off int
	err error

	// A failed read not yet turned into err: failed is set, and what failed where.
	failed    bool
	failBytes bool // a byte string's length (need is then unused)
	failWhat  string
	failAt    int
	failNeed  int
}

// NewDecoder returns a Decoder reading frame from its first byte.
func NewDecoder(frame []byte) Decoder { return Decoder{buf: frame} }

// Err returns the first error a read met, or nil.
func (d *Decoder) Err() error {
	if d.err == nil && d.failed {
		d.err = d.failure()
	}
	return d.err
}

// ok reports whether no read has failed.
func (d *Decoder) ok() bool { return !d.failed }

// failure builds the error of the failed read the decoder noted.
func (d *Decoder) failure() error {
	left := len(d.buf) - d.failAt
	if !d.failBytes {
		return &DecodeError{Offset: d.failAt, Msg: fmt.Sprintf("truncated %s: needs %d bytes, %d left", d.failWhat, d.failNeed, left)}
	}
	if left < 4 {
		return &DecodeError{Offset: d.failAt, Msg: fmt.Sprintf("truncated %s length: needs 4 bytes, %d left", d.failWhat, left)}
	}
	n := binary.LittleEndian.Uint32(d.buf[d.failAt:])
	return &DecodeError{Offset: d.failAt, Msg: fmt.Sprintf("%s length %d exceeds the %d bytes left", d.failWhat, n, left-4)}
}

// Offset returns the offset in the frame of the next byte to read.
func (d *Decoder) Offset() int { return d.off }

// Len returns how many bytes are left to read.
func (d *Decoder) Len() int { return len(d.buf) - d.off }

// Fail records err as d's error unless one is recorded already; later reads return zero values.
func (d *Decoder) Fail(err error) {
	if !d.failed {
		d.err, d.failed = err, true
	}
}

// note records that the read of what, n bytes, does not fit, unless a read failed already.
func (d *Decoder) note(n int, what string) {
	if !d.failed {
		d.failed, d.failWhat, d.failAt, d.failNeed = true, what, d.off, n
	}
}

// U8 reads one byte; what names it in an error.
func (d *Decoder) U8(what string) uint8 {
	if !d.failed && d.off < len(d.buf) {
		d.off++
		return d.buf[d.off-1]
	}
	d.note(1, what)
	return 0
}

// U16 reads a little-endian u16; what names it in an error.
func (d *Decoder) U16(what string) uint16 {
	if !d.failed && len(d.buf)-d.off >= 2 {
		d.off += 2
		return binary.LittleEndian.Uint16(d.buf[d.off-2:])
	}
	d.note(2, what)
	return 0
}

// U32 reads a little-endian u32; what names it in an error.
func (d *Decoder) U32(what string) uint32 {
	if !d.failed && len(d.buf)-d.off >= 4 {
		d.off += 4
		return binary.LittleEndian.Uint32(d.buf[d.off-4:])
	}
	d.note(4, what)
	return 0
}

// Bytes reads a byte string and returns it aliasing the frame, with its capacity cut to its
// length so that appending to it cannot overwrite the frame. The length is checked against
// the bytes present before anything else happens. what names it in an error.
func (d *Decoder) Bytes(what string) []byte {
	if !d.failed && len(d.buf)-d.off >= 4 {
		start := d.off + 4
		if n := binary.LittleEndian.Uint32(d.buf[d.off:]); uint64(n) <= uint64(len(d.buf)-start) {
			d.off = start + int(n)
			return d.buf[start:d.off:d.off]
		}
	}
	if !d.failed {
		d.failed, d.failBytes, d.failWhat, d.failAt = true, true, what, d.off
	}
	return nil
}

// DecodeError reports a frame that does not decode: what is wrong and where. It wraps
// ErrProtocol.
type DecodeError struct {
	// Offset is the offset in the frame of the field at fault.
	Offset int
	// Msg says what is wrong with it.
	Msg string
}

// Error returns the message and the offset.
func (e *DecodeError) Error() string { return fmt.Sprintf("%s at offset %d", e.Msg, e.Offset) }

// Unwrap returns ErrProtocol, so errors.Is(err, ErrProtocol) holds.
func (e *DecodeError) Unwrap() error { return ErrProtocol }
