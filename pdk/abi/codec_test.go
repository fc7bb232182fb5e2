package abi

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestCodecRoundTrip(t *testing.T) {
	e := NewEncoder(make([]byte, 0, 64))
	e.AppendU8(7)
	e.AppendU16(0xBEEF)
	e.AppendU32(0xDEADBEEF)
	e.AppendBytes([]byte{1, 2})
	e.AppendString("")
	d := NewDecoder(e.Bytes())
	if d.U8("a") != 7 || d.U16("b") != 0xBEEF || d.U32("c") != 0xDEADBEEF {
		t.Fatal("scalars do not round-trip")
	}
	b := d.Bytes("d")
	if string(b) != "\x01\x02" || cap(b) != 2 {
		t.Fatalf("bytes %q cap %d: want the bytes, capacity cut to length", b, cap(b))
	}
	if s := d.Bytes("e"); s == nil || len(s) != 0 {
		t.Fatalf("empty bytes = %v, want empty and non-nil", s)
	}
	if d.Err() != nil || d.Len() != 0 {
		t.Fatalf("err %v, %d left", d.Err(), d.Len())
	}
	if d.U32("past the end") != 0 {
		t.Fatal("a read past the end returned a value")
	}
	var de *DecodeError
	if err := d.Err(); !errors.As(err, &de) || !errors.Is(err, ErrProtocol) || de.Offset != 17 ||
		err.Error() != "truncated past the end: needs 4 bytes, 0 left at offset 17" {
		t.Fatalf("error %v", err)
	}
	d.U8("later")
	if !strings.Contains(d.Err().Error(), "past the end") {
		t.Fatal("a later read replaced the first error")
	}
}

func TestEncoderDoesNotAllocate(t *testing.T) {
	buf := make([]byte, 0, 4096)
	value := make([]byte, 100)
	allocs := testing.AllocsPerRun(100, func() {
		e := NewEncoder(buf)
		e.AppendHeader(RequestMagic, Major, Minor, 0)
		e.AppendBegin(1, true)
		for range 10 {
			e.AppendPut(1, "ns", "key", value)
		}
		e.AppendCommit(1)
		e.SetCount(12)
		d := NewDecoder(e.Bytes())
		h, _ := decodeHeader(&d, RequestMagic, "request")
		if _, err := checkRequest(&d, h.count, nil, new(request)); err != nil {
			panic("bad frame")
		}
	})
	if allocs != 0 {
		t.Errorf("encoding and checking a request: %v allocations, want 0", allocs)
	}
}

// docExample is the worked example of docs/abi.md: keep the two in step.
var docExample = []struct{ request, response string }{{
	request: "44595100 0100 0200 03000000" +
		"01 0100 0200 00000000 00000000" +
		"02 01000000 00" +
		"03 01000000 02000000 6e73 01000000 6b",
	response: "44595200 0100 0200 03000000" +
		"00 0100 0200 05000000 696e6d656d 01000000 31 02 00000000 00000000 00000000 00000000" +
		"00" +
		"01",
}, {
	request: "44595100 0100 0200 03000000" +
		"02 02000000 01" +
		"04 02000000 02000000 6e73 01000000 6b 02000000 6869" +
		"03 09000000 02000000 6e73 01000000 6b",
	response: "44595200 0100 0200 03000000" +
		"00" +
		"00" +
		"23 1e000000 4745543a207472616e73616374696f6e2039206973206e6f74206f70656e",
}}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDocExample(t *testing.T) {
	d := NewDispatcher(InmemOpener)
	for i, ex := range docExample {
		got := d.Handle(context.Background(), unhex(t, ex.request), nil)
		if want := unhex(t, ex.response); string(got) != string(want) {
			t.Errorf("example %d: response\n got %x\nwant %x", i, got, want)
		}
	}
	rs := results(t, unhex(t, docExample[1].response), []Op{OpBegin, OpPut, OpGet})
	if rs[2].status != UnknownTx || rs[2].msg != "GET: transaction 9 is not open" {
		t.Errorf("example 2 decodes to %+v", rs)
	}
}
