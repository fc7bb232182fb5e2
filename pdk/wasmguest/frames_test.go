package wasmguest

import (
	"context"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
)

func TestBufferGrowsAndShrinks(t *testing.T) {
	var f frames
	if b := f.buffer(0); len(b) != 0 || cap(b) < minBuffer {
		t.Fatalf("buffer(0): len %d cap %d", len(b), cap(b))
	}
	small := f.buffer(10)
	if len(small) != 10 || &small[:1][0] != &f.req[0] {
		t.Fatal("buffer(10) did not reuse the buffer")
	}
	big := f.buffer(2 << 20)
	if len(big) != 2<<20 {
		t.Fatalf("buffer(2 MiB): len %d", len(big))
	}
	if b := f.buffer(1 << 20); &b[0] != &big[0] {
		t.Fatal("a request that fits reallocated the buffer")
	}
	if b := f.buffer(100); cap(b) > keepBuffer {
		t.Fatalf("a small request kept a %d-byte buffer", cap(b))
	}
}

// hello encodes a request frame holding ops.
func frame(ops func(e *abi.Encoder), n uint32) []byte {
	e := abi.NewEncoder(nil)
	e.AppendHeader(abi.RequestMagic, abi.Major, abi.Minor, n)
	ops(&e)
	return e.Bytes()
}

// status returns the status and message of the first result of a response frame.
func status(t *testing.T, resp []byte) (abi.Status, string) {
	t.Helper()
	d := abi.NewDecoder(resp)
	for range abi.HeaderSize {
		d.U8("header")
	}
	st := abi.Status(d.U8("status"))
	var msg string
	if st.Failure() {
		msg = string(d.Bytes("message"))
	}
	if d.Err() != nil {
		t.Fatalf("response %x: %v", resp, d.Err())
	}
	return st, msg
}

// call writes req into the request buffer, as the host does, and handles it.
func call(f *frames, req []byte) []byte {
	copy(f.buffer(uint32(len(req))), req)
	return f.call(uint32(len(req)))
}

func TestCall(t *testing.T) {
	hello := frame(func(e *abi.Encoder) { e.AppendHello(abi.Hello{Major: abi.Major, Minor: abi.Minor}) }, 1)
	ping := frame(func(e *abi.Encoder) { e.AppendPing() }, 1)

	var f frames
	opener = nil
	if st, msg := status(t, call(&f, hello)); st != abi.Failed || !strings.Contains(msg, "never called wasmguest.Serve") {
		t.Fatalf("HELLO without Serve: %v %q", st, msg)
	}
	Serve(func(context.Context, abi.Hello) (pdk.Driver, error) { return inmem.NewDriver(), nil })
	defer func() { opener = nil }()
	if st, msg := status(t, call(&f, hello)); st != abi.OK {
		t.Fatalf("HELLO: %v %q", st, msg)
	}
	if st, msg := status(t, call(&f, ping)); st != abi.OK {
		t.Fatalf("PING: %v %q", st, msg)
	}
	// A length past the buffer is clamped to it: the frame is then malformed, not a crash.
	copy(f.buffer(uint32(len(ping))), ping)
	if st, _ := status(t, f.call(1<<31)); st != abi.BadFrame {
		t.Fatalf("call past the buffer: %v, want BAD_FRAME", st)
	}
	// The request buffer stays put from one dockyard_buffer call to the next, whatever the
	// calls in between: the host writes request after request into it.
	buf := f.buffer(uint32(len(ping)))
	for range 3 {
		copy(buf, ping)
		if st, msg := status(t, f.call(uint32(len(ping)))); st != abi.OK {
			t.Fatalf("PING written into the same buffer: %v %q", st, msg)
		}
		if &f.req[0] != &buf[:1][0] {
			t.Fatal("dockyard_call moved the request buffer")
		}
	}
	// The response buffer is reused while small.
	r1 := call(&f, ping)
	r2 := call(&f, ping)
	if &r1[0] != &r2[0] {
		t.Error("the response buffer was not reused")
	}
}

func TestGCSettings(t *testing.T) {
	for _, env := range []string{"", "x", "0", "-5", "1.5"} {
		if _, _, ok := gcSettings(env); ok {
			t.Errorf("gcSettings(%q) = ok", env)
		}
	}
	percent, limit, ok := gcSettings("268435456")
	if !ok || percent != gcPercent || limit != 192<<20 {
		t.Errorf("gcSettings(256 MiB) = %d, %d, %v; want %d, 192 MiB, true", percent, limit, ok, gcPercent)
	}
}
