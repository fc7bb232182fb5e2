package abi

import (
	"fmt"

	"github.com/dockyard/dockyard/store"
)

// response is what the client keeps of a response frame. Client batches put payload-bearing
// operations only where one of each kind can occur (HELLO first, GET or SCAN last), so the
// payloads are kept per kind, not per result, and a batch of many writes costs no memory here.
type response struct {
	n      int    // results in the frame
	status Status // status of the last result (OK when there is none)
	msg    string // message of the last result, if it is a failure
	info   Info   // payload of the last HELLO result
	value  []byte // payload of the last GET result; aliases the frame
	page   []store.KeyValue
	more   bool // of the last SCAN result
}

// decodeResponse checks a response frame against the operations of the request it answers
// and decodes it. Any deviation from docs/abi.md is an error wrapping ErrProtocol (or
// ErrIncompatible, for a guest that answers in another major), never a panic. Values alias
// the frame.
func decodeResponse(frame []byte, ops []Op) (r response, err error) {
	d := NewDecoder(frame)
	h, err := decodeHeader(&d, ResponseMagic, "response")
	if err != nil {
		return r, fmt.Errorf("abi: %w", err)
	}
	if h.major != Major {
		return decodeForeign(&d, h)
	}
	if uint64(h.count) > uint64(len(ops)) {
		return r, fmt.Errorf("%w: response has %d results for a request of %d operations", ErrProtocol, h.count, len(ops))
	}
	for i, op := range ops[:h.count] {
		at := d.Offset()
		st := Status(d.U8("status"))
		if d.ok() {
			err = decodeResult(&d, &r, op, st)
		}
		if err == nil {
			err = d.Err()
		}
		if err == nil && st.Failure() && i < int(h.count)-1 {
			err = &DecodeError{Offset: at, Msg: fmt.Sprintf("failure %s followed by more results", st)}
		}
		if err != nil {
			return r, fmt.Errorf("abi: response result %d (%s): %w", i, op, err)
		}
		r.n, r.status = i+1, st
	}
	if r.n < len(ops) && !r.status.Failure() {
		return r, fmt.Errorf("%w: response has %d results for a request of %d operations and no failure", ErrProtocol, r.n, len(ops))
	}
	if d.Len() != 0 {
		return r, fmt.Errorf("abi: response: %w", &DecodeError{Offset: d.Offset(), Msg: fmt.Sprintf("%d trailing bytes after the last result", d.Len())})
	}
	return r, nil
}

// decodeResult decodes the rest of one result, whose status st has been read, into r.
func decodeResult(d *Decoder, r *response, op Op, st Status) error {
	at := d.Offset() - 1
	switch {
	case !st.known():
		return &DecodeError{Offset: at, Msg: fmt.Sprintf("unknown status %d", uint8(st))}
	case st == NotFound && op != OpGet:
		return &DecodeError{Offset: at, Msg: fmt.Sprintf("status NOT_FOUND for %s", op)}
	case st == NotFound:
		r.msg = ""
	case st.Failure():
		r.msg = string(d.Bytes("message"))
	case op == OpHello:
		r.info = decodeInfo(d)
	case op == OpGet:
		r.value = d.Bytes("value")
	case op == OpScan:
		return decodePage(d, r)
	}
	return nil
}

// decodeInfo decodes the payload of a HELLO result.
func decodeInfo(d *Decoder) Info {
	var i Info
	i.Major = d.U16("info major")
	i.Minor = d.U16("info minor")
	i.Name = string(d.Bytes("driver name"))
	i.Version = string(d.Bytes("driver version"))
	i.Flags = d.U8("flags")
	i.MaxKeySize = d.U32("max key size")
	i.MaxValueSize = d.U32("max value size")
	i.MaxNamespaceSize = d.U32("max namespace size")
	i.MaxRequest = d.U32("max request")
	return i
}

// decodePage decodes the payload of a SCAN result. The entry count is checked against the
// bytes present (each entry takes at least 8) before the page is allocated.
func decodePage(d *Decoder, r *response) error {
	at := d.Offset()
	n := d.U32("entry count")
	if d.Err() != nil {
		return d.Err()
	}
	if uint64(n) > uint64(d.Len()/8) {
		return &DecodeError{Offset: at, Msg: fmt.Sprintf("scan page of %d entries cannot fit in the %d bytes left", n, d.Len())}
	}
	page := make([]store.KeyValue, n)
	for i := range page {
		page[i].Key = string(d.Bytes("entry key"))
		page[i].Value = d.Bytes("entry value")
	}
	at = d.Offset()
	more := d.U8("more flag")
	if d.ok() && more > 1 {
		return &DecodeError{Offset: at, Msg: fmt.Sprintf("more flag %d (want 0 or 1)", more)}
	}
	r.page, r.more = page, more == 1
	return d.Err()
}

// decodeForeign handles a response in another major. The one response every major shares is a
// single INCOMPATIBLE result (status, message); anything else cannot be read.
func decodeForeign(d *Decoder, h header) (r response, err error) {
	if h.count == 1 && Status(d.U8("status")) == Incompatible {
		msg := d.Bytes("message")
		if d.ok() && d.Len() == 0 {
			return response{n: 1, status: Incompatible, msg: string(msg)}, nil
		}
	}
	return r, fmt.Errorf("%w: guest answered in ABI %d.%d, host speaks ABI %d.%d", ErrIncompatible, h.major, h.minor, Major, Minor)
}
