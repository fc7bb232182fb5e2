package abi

import (
	"fmt"

	"github.com/dockyard/dockyard/store"
)

// Bounds of what a response may carry beyond the sizes the store accepts. An answer past any
// bound is a protocol violation, found before anything is allocated for it.
const (
	// MaxMessage is the largest failure message a host accepts (guests SHOULD keep theirs
	// within 4 KiB: the Go dispatcher and the C runtime truncate at 4096 bytes).
	MaxMessage = 64 << 10
	// MaxInfoString is the largest driver name or version a HELLO answer may carry.
	MaxInfoString = 1 << 10
	// MaxResponse is the largest response frame a transport need accept from a guest, 8 MiB:
	// a response carries at most one payload (a value of at most store.MaxValueSize, or a scan
	// page, bounded at ScanPageBudget or one entry), one failure message (MaxMessage), and a
	// status byte for each other operation of its request (a DefaultMaxRequest request holds
	// at most 1.5M operations). A transport refuses a larger frame from its length alone, so
	// a hostile guest cannot make the host allocate more.
	MaxResponse = store.MaxValueSize + 4<<20
)

// answerLimits bound the payloads of a response: the one check every transport's answers go
// through (decodeResponse), so a guest cannot hand the host a value, key, message or scan page
// larger than what it agreed to, whatever carries the frame.
type answerLimits struct {
	// maxKey and maxValue are the largest key and value the store accepts: the store's limits,
	// or the guest's declared ones when smaller.
	maxKey, maxValue int
	// scanLimit is the limit of the batch's SCAN (at most MaxScanLimit).
	scanLimit uint32
}

// defaultLimits are the limits for a guest that declared none: the store's.
var defaultLimits = answerLimits{maxKey: store.MaxKeySize, maxValue: store.MaxValueSize, scanLimit: MaxScanLimit}

// response is what the client keeps of a response frame. Client batches put payload-bearing
// operations only where one of each kind can occur (HELLO first, GET or SCAN last), so the
// payloads are kept per kind, not per result, and a batch of many writes costs no memory here.
type response struct {
	n      int        // results in the frame
	status Status     // status of the last result (OK when there is none)
	msg    string     // message of the last result, if it is a failure
	info   HelloReply // payload of the last HELLO result
	value  []byte     // payload of the last GET result; aliases the frame
	page   []store.KeyValue
	more   bool // of the last SCAN result
}

// decodeResponse checks a response frame against the operations of the request it answers
// and against lim, and decodes it. Any deviation from docs/abi.md is an error wrapping
// ErrProtocol (or ErrIncompatible, for a guest that answers in another major), never a panic;
// so is a payload past lim or MaxMessage, refused before it is allocated. Values alias the
// frame.
func decodeResponse(frame []byte, ops []Op, lim answerLimits) (r response, err error) {
	err = decodeResponseInto(frame, ops, lim, &r)
	return r, err
}

// decodeResponseInto is decodeResponse decoding into *r, which it first resets.
func decodeResponseInto(frame []byte, ops []Op, lim answerLimits, r *response) (err error) {
	*r = response{}
	d := NewDecoder(frame)
	h, err := decodeHeader(&d, ResponseMagic, "response")
	if err != nil {
		return fmt.Errorf("abi: %w", err)
	}
	if h.major != Major {
		*r, err = decodeForeign(&d, h)
		return err
	}
	if uint64(h.count) > uint64(len(ops)) {
		return fmt.Errorf("%w: response has %d results for a request of %d operations", ErrProtocol, h.count, len(ops))
	}
	for i, op := range ops[:h.count] {
		at := d.Offset()
		st := Status(d.U8("status"))
		switch {
		case st == OK && !op.answered():
			// The usual result of a write, BEGIN or ROLLBACK: a status and nothing else.
		case d.ok():
			err = decodeResult(&d, r, op, st, h.minor, &lim)
		}
		if err == nil {
			err = d.Err()
		}
		if err == nil && st.Failure() && i < int(h.count)-1 {
			err = &DecodeError{Offset: at, Msg: fmt.Sprintf("failure %s followed by more results", st)}
		}
		if err != nil {
			return fmt.Errorf("abi: response result %d (%s): %w", i, op, err)
		}
		r.n, r.status = i+1, st
	}
	if r.n < len(ops) && !r.status.Failure() {
		return fmt.Errorf("%w: response has %d results for a request of %d operations and no failure", ErrProtocol, r.n, len(ops))
	}
	if d.Len() != 0 {
		return fmt.Errorf("abi: response: %w", &DecodeError{Offset: d.Offset(), Msg: fmt.Sprintf("%d trailing bytes after the last result", d.Len())})
	}
	return nil
}

// answered reports whether an OK result of o carries a payload.
func (o Op) answered() bool {
	switch o {
	case OpHello, OpHelloReadOnly, OpGet, OpScan:
		return true
	}
	return false
}

// decodeResult decodes the rest of one result, whose status st has been read, into r.
func decodeResult(d *Decoder, r *response, op Op, st Status, minor uint16, lim *answerLimits) error {
	at := d.Offset() - 1
	switch {
	case !st.knownIn(minor):
		return &DecodeError{Offset: at, Msg: fmt.Sprintf("unknown status %d", uint8(st))}
	case st == NotFound && op != OpGet:
		return &DecodeError{Offset: at, Msg: fmt.Sprintf("status NOT_FOUND for %s", op)}
	case st == NotFound:
		r.msg = ""
	case st.Failure():
		msg := d.Bytes("message")
		if len(msg) > MaxMessage {
			return &DecodeError{Offset: at + 1, Msg: fmt.Sprintf("%s message of %d bytes exceeds the %d-byte limit", st, len(msg), MaxMessage)}
		}
		r.msg = string(msg)
	case op == OpHello, op == OpHelloReadOnly:
		r.info = decodeInfo(d)
	case op == OpGet:
		r.value = d.Bytes("value")
		if len(r.value) > lim.maxValue {
			return &DecodeError{Offset: at + 1, Msg: fmt.Sprintf("GET value of %d bytes exceeds the %d-byte value limit", len(r.value), lim.maxValue)}
		}
	case op == OpScan:
		return decodePage(d, r, lim)
	}
	return nil
}

// decodeInfo decodes the payload of a HELLO result.
func decodeInfo(d *Decoder) HelloReply {
	var i HelloReply
	i.Major = d.U16("info major")
	i.Minor = d.U16("info minor")
	i.Name = infoString(d, "driver name")
	i.Version = infoString(d, "driver version")
	i.Flags = d.U8("flags")
	i.MaxKeySize = d.U32("max key size")
	i.MaxValueSize = d.U32("max value size")
	i.MaxNamespaceSize = d.U32("max namespace size")
	i.MaxRequest = d.U32("max request")
	return i
}

// infoString reads a name or version of a HELLO answer, at most MaxInfoString bytes.
func infoString(d *Decoder, what string) string {
	at := d.Offset()
	b := d.Bytes(what)
	if len(b) > MaxInfoString {
		d.Fail(&DecodeError{Offset: at, Msg: fmt.Sprintf("%s of %d bytes exceeds the %d-byte limit", what, len(b), MaxInfoString)})
		return ""
	}
	return string(b)
}

// decodePage decodes the payload of a SCAN result. Before the page is allocated, a first
// pass over the entries checks them, aliasing the frame: the count against the SCAN's limit
// and the bytes present (each entry takes at least 8), every key and value against the sizes
// the store accepts, and the page's bytes against ScanPageBudget (a page of one entry may
// exceed it).
func decodePage(d *Decoder, r *response, lim *answerLimits) error {
	at := d.Offset()
	n := d.U32("entry count")
	if d.Err() != nil {
		return d.Err()
	}
	if limit := min(lim.scanLimit, MaxScanLimit); n > limit {
		return &DecodeError{Offset: at, Msg: fmt.Sprintf("scan page of %d entries exceeds the SCAN's limit of %d", n, limit)}
	}
	if uint64(n) > uint64(d.Len()/8) {
		return &DecodeError{Offset: at, Msg: fmt.Sprintf("scan page of %d entries cannot fit in the %d bytes left", n, d.Len())}
	}
	first := *d
	for i := range n {
		kat := d.Offset()
		k, v := d.Bytes("entry key"), d.Bytes("entry value")
		switch {
		case d.Err() != nil:
			return d.Err()
		case len(k) > lim.maxKey:
			return &DecodeError{Offset: kat, Msg: fmt.Sprintf("scan entry %d: key of %d bytes exceeds the %d-byte key limit", i, len(k), lim.maxKey)}
		case len(v) > lim.maxValue:
			return &DecodeError{Offset: kat, Msg: fmt.Sprintf("scan entry %d: value of %d bytes exceeds the %d-byte value limit", i, len(v), lim.maxValue)}
		}
	}
	if size := d.Offset() - at + 1; n > 1 && size > ScanPageBudget {
		return &DecodeError{Offset: at, Msg: fmt.Sprintf("scan page of %d entries and %d bytes exceeds the %d-byte page budget", n, size, ScanPageBudget)}
	}
	*d = first
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
