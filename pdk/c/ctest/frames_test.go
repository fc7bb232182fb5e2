package ctest

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/pdk/abi"
)

// unhex decodes hex with spaces and newlines in it.
func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDocExample replays the worked example of docs/abi.md on the C module: the requests byte
// for byte, and the responses byte for byte but for the driver's name and version in Info.
func TestDocExample(t *testing.T) {
	g := newRawGuest(t, cinmemC.bytes(t))
	req1 := unhex(t, `44 59 51 00 01 00 01 00 03 00 00 00
		01 01 00 01 00 00 00 00 00 00 00 00 00
		02 01 00 00 00 00
		03 01 00 00 00 02 00 00 00 6e 73 01 00 00 00 6b`)
	if len(req1) != 47 {
		t.Fatalf("request 1 is %d bytes, the doc says 47", len(req1))
	}
	want1 := unhex(t, `44 59 52 00 01 00 01 00 03 00 00 00
		00 01 00 01 00
		06 00 00 00 63 69 6e 6d 65 6d
		05 00 00 00 31 2e 30 2e 30
		02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
		00
		01`) // as the doc's, with name "cinmem" and version "1.0.0" for "inmem" and "1"
	if got := g.roundTrip(req1); !bytes.Equal(got, want1) {
		t.Fatalf("response 1:\n got %x\nwant %x", got, want1)
	}
	req2 := unhex(t, `44 59 51 00 01 00 01 00 03 00 00 00
		02 02 00 00 00 01
		04 02 00 00 00 02 00 00 00 6e 73 01 00 00 00 6b 02 00 00 00 68 69
		03 09 00 00 00 02 00 00 00 6e 73 01 00 00 00 6b`)
	want2 := unhex(t, `44 59 52 00 01 00 01 00 03 00 00 00
		00 00 23
		1e 00 00 00 47 45 54 3a 20 74 72 61 6e 73 61 63 74 69 6f 6e 20 39 20 69 73 20 6e 6f 74 20 6f 70 65 6e`)
	if len(req2) != 56 || len(want2) != 49 {
		t.Fatalf("the example's frames are %d and %d bytes, the doc says 56 and 49", len(req2), len(want2))
	}
	if got := g.roundTrip(req2); !bytes.Equal(got, want2) {
		t.Fatalf("response 2:\n got %x\nwant %x", got, want2)
	}
}

// header returns a request header with the given major and count.
func header(major uint16, count uint32) []byte {
	h := append([]byte(nil), abi.RequestMagic[:]...)
	h = binary.LittleEndian.AppendUint16(h, major)
	h = binary.LittleEndian.AppendUint16(h, 0)
	return binary.LittleEndian.AppendUint32(h, count)
}

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// TestRefusals sends malformed frames, one for each check of docs/abi.md "Executing a
// request", and wants each refused whole, with a message naming what is wrong and where.
func TestRefusals(t *testing.T) {
	g := newRawGuest(t, cinmemC.bytes(t))
	open := request(hello, begin(1, true), put(1, "ns", "k", []byte("v")))
	if rs := mustParse(t, g.roundTrip(open), open); len(rs) != 3 {
		t.Fatalf("setup: %v", rs)
	}
	getK := append(append(append([]byte{3}, u32(1)...), append(u32(2), "ns"...)...), append(u32(1), 'k')...)
	cases := []struct {
		name  string
		frame []byte
		want  abi.Status
		msg   string
	}{
		{"empty", nil, abi.BadFrame, "frame of 0 bytes is shorter than the 12-byte header"},
		{"short header", header(1, 0)[:11], abi.BadFrame, "frame of 11 bytes is shorter than the 12-byte header"},
		{"response magic", append([]byte("DYR\x00"), header(1, 0)[4:]...), abi.BadFrame,
			`magic 44 59 52 00 at offset 0 is not a request's 44 59 51 00`},
		{"major 2", append(header(2, 1), 9), abi.Incompatible, "host speaks ABI 2.0, guest speaks ABI 1.1"},
		{"major 0, garbage after", append(header(0, 99), 0xff), abi.Incompatible, "host speaks ABI 0.0, guest speaks ABI 1.1"},
		{"count past the bytes", append(header(1, 5), 9, 9, 9), abi.BadFrame,
			"count 5 at offset 8 exceeds the 3 bytes after the header"},
		{"op code 0", append(header(1, 1), 0), abi.BadFrame, "op 0: unknown op code 0 at offset 12"},
		{"op code 11", append(append(header(1, 2), 9), 11), abi.BadFrame, "op 1: unknown op code 11 at offset 13"},
		{"op code 255", append(header(1, 1), 255), abi.BadFrame, "op 0: unknown op code 255 at offset 12"},
		{"tx cut short", append(header(1, 1), 2, 1, 0), abi.BadFrame, "op 0 (BEGIN): tx cut short at offset 13: 2 of 4 bytes left"},
		{"writable missing", append(append(header(1, 1), 2), u32(1)...), abi.BadFrame,
			"op 0 (BEGIN): writable cut short at offset 17: 0 of 1 bytes left"},
		{"begin tx 0", append(append(header(1, 1), 2), append(u32(0), 0)...), abi.BadFrame,
			"op 0 (BEGIN): tx 0 at offset 13: a transaction id is never 0"},
		{"writable 2", append(append(header(1, 1), 2), append(u32(4), 2)...), abi.BadFrame,
			"op 0 (BEGIN): writable byte 2 at offset 17 is not 0 or 1"},
		{"ns length past the end", append(append(append(header(1, 1), 3), u32(1)...), append(u32(1000), "abc"...)...),
			abi.BadFrame, "op 0 (GET): ns length 1000 exceeds the 3 bytes left at offset 21"},
		{"key length 2^32-1", append(append(append(header(1, 1), 3), u32(1)...), append(append(u32(1), 'n'), u32(0xffffffff)...)...),
			abi.BadFrame, "op 0 (GET): key length 4294967295 exceeds the 0 bytes left at offset 26"},
		{"key length cut short", append(append(append(header(1, 1), 3), u32(1)...), append(u32(1), 'n', 1, 0)...),
			abi.BadFrame, "op 0 (GET): key length cut short at offset 22: 2 of 4 bytes left"},
		{"value missing after a good op", append(append(header(1, 2), getK...), 4, 1, 0, 0, 0, 1, 0, 0, 0, 'n', 1, 0, 0, 0, 'k'),
			abi.BadFrame, "op 1 (PUT): value length cut short at offset 43: 0 of 4 bytes left"},
		{"scan limit 0", request(scan(1, "ns", "", "", 0)), abi.BadFrame, "op 0 (SCAN): limit 0 at offset 31: a page holds at least one entry"},
		{"hello cut short", append(header(1, 1), 1, 1, 0, 0), abi.BadFrame, "op 0 (HELLO): minor cut short at offset 15: 1 of 2 bytes left"},
		{"bytes after the last op", append(request(ping), 9, 9), abi.BadFrame,
			"frame has 2 bytes after its last operation, at offset 13 (count 1)"},
		{"count 0 and a byte", append(header(1, 0), 9), abi.BadFrame, "frame has 1 bytes after its last operation, at offset 12 (count 0)"},
		// A refusal executes nothing: the good GET before the bad op does not run (its
		// result would be OK), nor the PUT and COMMIT that would have changed the data.
		{"good ops then a bad one", append(append(append(header(1, 4), getK...), request(put(1, "ns", "k", []byte("changed")), commit(1))[12:]...), 77),
			abi.BadFrame, "op 3: unknown op code 77 at offset"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := g.roundTrip(c.frame)
			rs, err := parseResponse(resp, nil)
			if err != nil {
				t.Fatalf("response %x: %v", resp, err)
			}
			if rs[0].Status != c.want || !strings.Contains(rs[0].Msg, c.msg) {
				t.Fatalf("got %v; want %v containing %q", rs[0], c.want, c.msg)
			}
		})
	}
	// Nothing of the refused frames ran: tx 1 is open and holds its one PUT, uncommitted.
	check := request(get(1, "ns", "k"), rollback(1), begin(2, false), get(2, "ns", "k"))
	rs := mustParse(t, g.roundTrip(check), check)
	if len(rs) != 4 || string(rs[0].Payload) != "\x01\x00\x00\x00v" || rs[3].Status != abi.NotFound {
		t.Fatalf("after the refusals: %v", rs)
	}
}

// mustParse parses the response to req, which must be well-formed.
func mustParse(t testing.TB, resp, req []byte) []result {
	t.Helper()
	ops, ok := requestOps(req)
	if !ok {
		t.Fatalf("request %x is malformed", req)
	}
	rs, err := parseResponse(resp, ops)
	if err != nil {
		t.Fatalf("response %x: %v", resp, err)
	}
	return rs
}

// statuses renders results as their statuses, for comparisons.
func statuses(rs []result) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.Status.String()
	}
	return strings.Join(s, " ")
}

// TestSessionsAndTransactions walks the rules of docs/abi.md "Sessions" and "Transactions".
func TestSessionsAndTransactions(t *testing.T) {
	g := newRawGuest(t, cinmemC.bytes(t))
	v := []byte("v")
	steps := []struct {
		name string
		req  []byte
		want string // statuses
		msg  string // in the last result's message
	}{
		{"ops before HELLO", request(ping), "NOT_OPEN", "PING: no session is open"},
		{"begin before HELLO", request(begin(1, true)), "NOT_OPEN", "BEGIN: no session is open"},
		{"close before HELLO", request(closeOp), "NOT_OPEN", "CLOSE: no session is open"},
		{"HELLO of major 2 changes nothing", request(func(e *abi.Encoder) { e.AppendHello(abi.Hello{Major: 2, Minor: 3}) }, ping),
			"INCOMPATIBLE", "host speaks ABI 2.3, guest speaks ABI 1.1"},
		{"still closed", request(ping), "NOT_OPEN", ""},
		{"HELLO", request(hello, ping), "OK OK", ""},
		{"NOT_FOUND does not stop a batch", request(begin(1, true), get(1, "ns", "a"), get(1, "ns", "b"), put(1, "ns", "a", v)),
			"OK NOT_FOUND NOT_FOUND OK", ""},
		{"BEGIN of an open transaction", request(begin(2, false), begin(1, false), ping), "OK BAD_FRAME",
			"BEGIN: transaction 1 is already open"},
		{"a failure stops the batch", request(get(1, "ns", "a"), get(7, "ns", "a"), ping), "OK UNKNOWN_TX",
			"GET: transaction 7 is not open"},
		{"PUT in a read-only transaction", request(put(2, "ns", "a", v)), "READ_ONLY", "PUT: transaction 2 is read-only"},
		{"the reader does not see the writer", request(get(2, "ns", "a")), "NOT_FOUND", ""},
		{"empty key", request(put(1, "ns", "", v)), "INVALID_KEY", "cinmem: empty key"},
		{"key of 1025 bytes", request(put(1, "ns", strings.Repeat("k", 1025), v)), "TOO_LARGE", "key of 1025 bytes exceeds 1024"},
		{"commit", request(commit(1), commit(1)), "OK UNKNOWN_TX", "COMMIT: transaction 1 is not open"},
		{"the old reader keeps its snapshot", request(get(2, "ns", "a"), rollback(2), rollback(2)), "NOT_FOUND OK UNKNOWN_TX",
			"ROLLBACK: transaction 2 is not open"},
		{"a new reader sees the commit", request(begin(3, false), get(3, "ns", "a"), rollback(3)), "OK OK OK", ""},
		{"unknown tx in every op", request(del(9, "ns", "a")), "UNKNOWN_TX", "DELETE: transaction 9 is not open"},
		{"scan of an unknown tx", request(scan(9, "ns", "", "", 5)), "UNKNOWN_TX", "SCAN: transaction 9 is not open"},
		{"rollback discards", request(begin(4, true), del(4, "ns", "a"), get(4, "ns", "a"), rollback(4), begin(5, false), get(5, "ns", "a"), rollback(5)),
			"OK OK NOT_FOUND OK OK OK OK", ""},
		{"an empty batch", request(), "", ""},
		{"HELLO again ends the session", request(begin(6, true), hello, get(6, "ns", "a")), "OK OK UNKNOWN_TX", ""},
		{"and its data (in memory)", request(begin(6, false), get(6, "ns", "a")), "OK NOT_FOUND", ""},
		{"CLOSE rolls back and closes", request(begin(7, true), put(7, "ns", "x", v), closeOp, ping), "OK OK OK NOT_OPEN", ""},
	}
	for _, s := range steps {
		rs := mustParse(t, g.roundTrip(s.req), s.req)
		if got := statuses(rs); got != s.want {
			t.Fatalf("%s: statuses %q (%v), want %q", s.name, got, rs, s.want)
		}
		if s.msg != "" && !strings.Contains(rs[len(rs)-1].Msg, s.msg) {
			t.Fatalf("%s: message %q, want it to contain %q", s.name, rs[len(rs)-1].Msg, s.msg)
		}
	}
}

// TestScanPages checks the page rules: limit, the 1 MiB byte budget, the first entry always
// included, the limit lowered to 65536, and `more` exactly when an entry was left out.
func TestScanPages(t *testing.T) {
	g := newRawGuest(t, cinmemC.bytes(t))
	big := bytes.Repeat([]byte("b"), 400_000)
	huge := bytes.Repeat([]byte("h"), 2<<20)
	ops := []func(*abi.Encoder){hello, begin(1, true)}
	for i := range 9 {
		ops = append(ops, put(1, "small", fmt.Sprintf("k%d", i), []byte{byte('0' + i)}))
	}
	for i := range 5 {
		ops = append(ops, put(1, "big", fmt.Sprintf("k%d", i), big))
	}
	ops = append(ops, put(1, "huge", "a", huge), put(1, "huge", "b", huge), put(1, "huge", "c", []byte("c")), commit(1), begin(2, false))
	req := request(ops...)
	if rs := mustParse(t, g.roundTrip(req), req); len(rs) != len(ops) {
		t.Fatalf("setup: %v", rs)
	}
	page := func(ns, prefix, after string, limit uint32) result {
		t.Helper()
		req := request(scan(2, ns, prefix, after, limit))
		rs := mustParse(t, g.roundTrip(req), req)
		if len(rs) != 1 || rs[0].Status != abi.OK {
			t.Fatalf("scan %s %q after %q: %v", ns, prefix, after, rs)
		}
		return rs[0]
	}
	keys := func(r result) string {
		var ks []string
		for _, e := range r.Entries {
			ks = append(ks, e.Key)
		}
		return fmt.Sprintf("%s more=%v", strings.Join(ks, ","), r.More)
	}
	for _, c := range []struct {
		ns, prefix, after string
		limit             uint32
		want              string
	}{
		{"small", "", "", 3, "k0,k1,k2 more=true"},
		{"small", "", "k5", 3, "k6,k7,k8 more=false"}, // exactly the limit left: the page is the last
		{"small", "", "k7", 3, "k8 more=false"},
		{"small", "k", "k8", 3, " more=false"},
		{"small", "k3", "", 100, "k3 more=false"},
		{"small", "k3", "k0", 100, "k3 more=false"}, // after before the prefix
		{"small", "", "k", 2, "k0,k1 more=true"},
		{"nothing", "", "", 10, " more=false"},
		// 5 + 2*(8+2+400000) fits in 1 MiB, a third entry would not.
		{"big", "", "", 100, "k0,k1 more=true"},
		{"big", "", "k1", 100, "k2,k3 more=true"},
		{"big", "", "k3", 100, "k4 more=false"},
		// An entry over the budget is a page of its own.
		{"huge", "", "", 100, "a more=true"},
		{"huge", "", "a", 100, "b more=true"},
		{"huge", "", "b", 100, "c more=false"},
	} {
		if got := keys(page(c.ns, c.prefix, c.after, c.limit)); got != c.want {
			t.Errorf("scan %s prefix %q after %q limit %d: %s, want %s", c.ns, c.prefix, c.after, c.limit, got, c.want)
		}
	}

	// A limit over 65536 is lowered: 70000 small entries come in a page of 65536.
	ops = []func(*abi.Encoder){begin(3, true)}
	for i := range 70000 {
		ops = append(ops, put(3, "many", fmt.Sprintf("%05d", i), nil))
	}
	ops = append(ops, commit(3), begin(4, false), scan(4, "many", "", "", 1<<31))
	req = request(ops...)
	rs := mustParse(t, g.roundTrip(req), req)
	last := rs[len(rs)-1]
	if len(rs) != len(ops) || len(last.Entries) != 65536 || !last.More || last.Entries[65535].Key != "65535" {
		t.Fatalf("scan with limit 2^31: %d results, last has %d entries, more=%v", len(rs), len(last.Entries), last.More)
	}
}

// TestBuffers checks the WebAssembly binding's buffer rules (docs/abi.md) as the C runtime
// keeps them: the buffer dockyard_buffer returns stays where it is, at least that size, until
// the next dockyard_buffer, so requests can be written into it and handled with dockyard_call
// alone (a crossing is one call); the response never overlaps it; a length past the size
// asked for is refused as a malformed frame, not read.
func TestBuffers(t *testing.T) {
	g := newRawGuest(t, cinmemC.bytes(t))
	const size = 4096
	buf := g.bufferFor(size)
	if again := g.bufferFor(100); again != buf {
		t.Fatalf("dockyard_buffer moved a buffer large enough: %d then %d", buf, again)
	}
	if again := g.bufferFor(size); again != buf { // requests of up to size bytes from here on
		t.Fatalf("dockyard_buffer moved a buffer large enough: %d then %d", buf, again)
	}
	big := bytes.Repeat([]byte("x"), 3<<20)
	call := func(req []byte) []result {
		t.Helper()
		if len(req) > size {
			t.Fatalf("request of %d bytes", len(req))
		}
		g.write(buf, req)
		rp, rn, resp := g.callRaw(uint32(len(req)))
		if uint64(rp) < uint64(buf)+size && uint64(buf) < uint64(rp)+uint64(rn) {
			t.Fatalf("response [%d,+%d) overlaps the request buffer [%d,+%d)", rp, rn, buf, size)
		}
		return mustParse(t, resp, req)
	}
	call(request(hello))
	for i := range 50 {
		// Values written in pieces: PUT the big value's first kilobyte, then GET values of
		// several MiB, so the response buffer grows and moves while the request one stays.
		rs := call(request(begin(uint32(i+1), true), put(uint32(i+1), "ns", "k", big[:1024]), commit(uint32(i+1))))
		if statuses(rs) != "OK OK OK" {
			t.Fatalf("call %d: %v", i, rs)
		}
		rs = call(request(begin(1000, false), get(1000, "ns", "k"), rollback(1000)))
		if statuses(rs) != "OK OK OK" || len(rs[1].Payload) != 4+1024 {
			t.Fatalf("call %d: %v", i, rs)
		}
	}
	// A big PUT needs a bigger buffer; the GET's large response comes back whole.
	req := request(begin(2000, true), put(2000, "ns", "big", big), commit(2000), begin(2001, false), get(2001, "ns", "big"), rollback(2001))
	rs := mustParse(t, g.roundTrip(req), req)
	if statuses(rs) != "OK OK OK OK OK OK" || len(rs[4].Payload) != 4+len(big) {
		t.Fatalf("big value: %v", statuses(rs))
	}
	// The buffer is now at least that big; a small size asked of dockyard_buffer lets the guest
	// trade it for a smaller one (that is the only place it moves).
	for range 20 {
		if rs := mustParse(t, g.roundTrip(request(ping)), request(ping)); statuses(rs) != "OK" {
			t.Fatalf("ping: %v", rs)
		}
	}
	// Small requests go on through dockyard_call alone.
	buf = g.bufferFor(size)
	for range 40 {
		if rs := call(request(ping)); statuses(rs) != "OK" {
			t.Fatalf("ping: %v", rs)
		}
	}
	// A length past the size last asked for is refused without reading the request: far past
	// the buffer, or just past the size (though within the buffer the guest really has).
	for _, n := range []uint32{0xfffffff0, size + 1} {
		_, _, resp := g.callRaw(n)
		rs, err := parseResponse(resp, nil)
		want := fmt.Sprintf("request of %d bytes exceeds the %d bytes last asked of dockyard_buffer", n, size)
		if err != nil || rs[0].Status != abi.BadFrame || rs[0].Msg != want {
			t.Fatalf("dockyard_call(%d) past the buffer: %v, %v; want BAD_FRAME %q", n, rs, err, want)
		}
	}
	// And the session is intact.
	if rs := call(request(ping)); statuses(rs) != "OK" {
		t.Fatalf("ping: %v", rs)
	}
}
