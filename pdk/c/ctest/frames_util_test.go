package ctest

import (
	"bytes"
	"fmt"

	"github.com/dockyard/dockyard/pdk/abi"
)

// request encodes a request frame of this ABI version (abi.Major, abi.Minor) holding the operations ops appends.
func request(ops ...func(e *abi.Encoder)) []byte {
	e := abi.NewEncoder(nil)
	e.AppendHeader(abi.RequestMagic, abi.Major, abi.Minor, uint32(len(ops)))
	for _, op := range ops {
		op(&e)
	}
	return bytes.Clone(e.Bytes())
}

// Operation encoders for request.
func hello(e *abi.Encoder) { e.AppendHello(abi.Hello{Major: abi.Major, Minor: abi.Minor}) }
func begin(tx uint32, w bool) func(*abi.Encoder) {
	return func(e *abi.Encoder) { e.AppendBegin(tx, w) }
}
func get(tx uint32, ns, key string) func(*abi.Encoder) {
	return func(e *abi.Encoder) { e.AppendGet(tx, ns, key) }
}
func put(tx uint32, ns, key string, v []byte) func(*abi.Encoder) {
	return func(e *abi.Encoder) { e.AppendPut(tx, ns, key, v) }
}
func del(tx uint32, ns, key string) func(*abi.Encoder) {
	return func(e *abi.Encoder) { e.AppendDelete(tx, ns, key) }
}
func scan(tx uint32, ns, prefix, after string, limit uint32) func(*abi.Encoder) {
	return func(e *abi.Encoder) { e.AppendScan(tx, ns, prefix, after, limit) }
}
func commit(tx uint32) func(*abi.Encoder)   { return func(e *abi.Encoder) { e.AppendCommit(tx) } }
func rollback(tx uint32) func(*abi.Encoder) { return func(e *abi.Encoder) { e.AppendRollback(tx) } }
func ping(e *abi.Encoder)                   { e.AppendPing() }
func closeOp(e *abi.Encoder)                { e.AppendClose() }

// requestOps decodes the op codes of a well-formed request frame; ok is false for a frame the
// guest must refuse (so its answer is a single failure).
func requestOps(req []byte) (ops []abi.Op, ok bool) {
	d := abi.NewDecoder(req)
	if len(req) < abi.HeaderSize || !bytes.Equal(req[:4], abi.RequestMagic[:]) {
		return nil, false
	}
	d.U32("magic")
	if d.U16("major") != abi.Major {
		return nil, false
	}
	d.U16("minor")
	count := d.U32("count")
	if uint64(count) > uint64(d.Len()) {
		return nil, false
	}
	ops = []abi.Op{} // not nil: nil stands for a refused request
	for i := uint32(0); i < count && d.Err() == nil; i++ {
		op := abi.Op(d.U8("op"))
		switch op {
		case abi.OpHello:
			d.U16("major")
			d.U16("minor")
			d.Bytes("dsn")
			d.Bytes("options")
		case abi.OpBegin:
			if d.U32("tx") == 0 || d.U8("writable") > 1 {
				return nil, false
			}
		case abi.OpGet, abi.OpDelete:
			d.U32("tx")
			d.Bytes("ns")
			d.Bytes("key")
		case abi.OpPut:
			d.U32("tx")
			d.Bytes("ns")
			d.Bytes("key")
			d.Bytes("value")
		case abi.OpScan:
			d.U32("tx")
			d.Bytes("ns")
			d.Bytes("prefix")
			d.Bytes("after")
			if d.U32("limit") == 0 && d.Err() == nil {
				return nil, false
			}
		case abi.OpCommit, abi.OpRollback:
			d.U32("tx")
		case abi.OpPing, abi.OpClose:
		default:
			return nil, false
		}
		ops = append(ops, op)
	}
	if d.Err() != nil || d.Len() != 0 {
		return nil, false
	}
	return ops, true
}

// result is one decoded result of a response.
type result struct {
	Status  abi.Status
	Msg     string // failures
	Payload []byte // OK: the payload's bytes, as encoded
	Entries []kv   // SCAN
	More    bool   // SCAN
	Info    abi.HelloReply
}

type kv struct{ Key, Value string }

func (r result) String() string {
	switch {
	case r.Status.Failure():
		return fmt.Sprintf("%v %q", r.Status, r.Msg)
	case len(r.Entries) > 0 || r.More:
		return fmt.Sprintf("%v %v more=%v", r.Status, r.Entries, r.More)
	case len(r.Payload) > 0:
		return fmt.Sprintf("%v %x", r.Status, r.Payload)
	}
	return r.Status.String()
}

// cMinor is the ABI minor of the C kit (DY_ABI_MINOR in pdk/c/dockyard.h), which its answers
// carry: 1.1, so a host of 1.2 sends it no HELLO_READONLY (TestRefusals: op code 11 is refused
// whole, as an older guest must).
const cMinor = 1

// parseResponse decodes a response frame answering a request with ops (nil: a refused
// request), checking everything docs/abi.md says a host checks.
func parseResponse(resp []byte, ops []abi.Op) ([]result, error) {
	return parseResponseOf(resp, ops, cMinor)
}

// parseResponseOf is parseResponse for a guest of ABI 1.minor.
func parseResponseOf(resp []byte, ops []abi.Op, minor uint16) ([]result, error) {
	d := abi.NewDecoder(resp)
	if len(resp) < abi.HeaderSize || !bytes.Equal(resp[:4], abi.ResponseMagic[:]) {
		return nil, fmt.Errorf("response %x: no response header", resp)
	}
	d.U32("magic")
	if major, got := d.U16("major"), d.U16("minor"); major != abi.Major || got != minor {
		return nil, fmt.Errorf("response version %d.%d, want %d.%d", major, got, abi.Major, minor)
	}
	count := d.U32("count")
	if ops == nil && count != 1 {
		return nil, fmt.Errorf("a refusal holds %d results, want 1", count)
	}
	if ops != nil && int(count) > len(ops) {
		return nil, fmt.Errorf("%d results for %d operations", count, len(ops))
	}
	var out []result
	for i := 0; i < int(count); i++ {
		var r result
		r.Status = abi.Status(d.U8("status"))
		if r.Status.Failure() {
			if (r.Status > abi.CommitUnknown && r.Status < abi.Failed) || r.Status > abi.NotOpen {
				return nil, fmt.Errorf("result %d: unknown status %d", i, r.Status)
			}
			r.Msg = string(d.Bytes("message"))
			if i != int(count)-1 {
				return nil, fmt.Errorf("result %d is a failure but not the last", i)
			}
			out = append(out, r)
			continue
		}
		if ops == nil {
			return nil, fmt.Errorf("a refusal answered %v", r.Status)
		}
		if r.Status == abi.NotFound {
			if ops[i] != abi.OpGet {
				return nil, fmt.Errorf("result %d: NOT_FOUND answers %v", i, ops[i])
			}
			out = append(out, r)
			continue
		}
		start := d.Offset()
		switch ops[i] {
		case abi.OpHello:
			r.Info.Major, r.Info.Minor = d.U16("major"), d.U16("minor")
			r.Info.Name, r.Info.Version = string(d.Bytes("name")), string(d.Bytes("version"))
			r.Info.Flags = d.U8("flags")
			r.Info.MaxKeySize, r.Info.MaxValueSize = d.U32("maxKey"), d.U32("maxValue")
			r.Info.MaxNamespaceSize, r.Info.MaxRequest = d.U32("maxNS"), d.U32("maxRequest")
		case abi.OpGet:
			d.Bytes("value")
		case abi.OpScan:
			n := d.U32("n")
			if uint64(n)*8 > uint64(d.Len()) {
				return nil, fmt.Errorf("result %d: scan of %d entries in %d bytes", i, n, d.Len())
			}
			for j := uint32(0); j < n; j++ {
				r.Entries = append(r.Entries, kv{string(d.Bytes("key")), string(d.Bytes("value"))})
			}
			switch d.U8("more") {
			case 0:
			case 1:
				r.More = true
			default:
				return nil, fmt.Errorf("result %d: more is not 0 or 1", i)
			}
			if n == 0 && r.More {
				return nil, fmt.Errorf("result %d: an empty page says more", i)
			}
		}
		if d.Err() != nil {
			return nil, fmt.Errorf("result %d: %w", i, d.Err())
		}
		r.Payload = resp[start:d.Offset()]
		out = append(out, r)
	}
	if d.Err() != nil {
		return nil, d.Err()
	}
	if d.Len() != 0 {
		return nil, fmt.Errorf("%d bytes after the last result", d.Len())
	}
	if ops != nil && len(out) < len(ops) && (len(out) == 0 || !out[len(out)-1].Status.Failure()) {
		return nil, fmt.Errorf("%d results for %d operations, the last not a failure", len(out), len(ops))
	}
	return out, nil
}
