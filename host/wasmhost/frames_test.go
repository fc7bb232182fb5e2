package wasmhost

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/pdk/abi"
)

// firstResult decodes the header and first result of a response frame: its status and, for a
// failure, its message.
func firstResult(t *testing.T, frame []byte) (abi.Status, string) {
	t.Helper()
	d := abi.NewDecoder(frame)
	magic := []byte{d.U8("magic"), d.U8("magic"), d.U8("magic"), d.U8("magic")}
	d.U16("major")
	d.U16("minor")
	count := d.U32("count")
	if string(magic) != string(abi.ResponseMagic[:]) || count == 0 {
		t.Fatalf("response %x: magic %q, count %d", frame, magic, count)
	}
	st := abi.Status(d.U8("status"))
	var msg string
	if st.Failure() {
		msg = string(d.Bytes("message"))
	}
	if err := d.Err(); err != nil {
		t.Fatalf("response %x: %v", frame, err)
	}
	return st, msg
}

func request(major uint16, ops func(e *abi.Encoder)) []byte {
	e := abi.NewEncoder(nil)
	e.AppendHeader(abi.RequestMagic, major, abi.Minor, 1)
	ops(&e)
	return e.Bytes()
}

// TestFramesEndToEnd sends raw frames through the transport to the Go guest: what the codec
// answers arrives intact across the wasm boundary.
func TestFramesEndToEnd(t *testing.T) {
	inmem, _ := sharedModules(t)
	tr := newTestTransport(t, inmem, "")
	ctx := context.Background()
	for _, c := range []struct {
		name string
		req  []byte
		want abi.Status
		msg  string
	}{
		{"malformed", []byte("DYQ\x00garbage"), abi.BadFrame, ""},
		{"empty", nil, abi.BadFrame, ""},
		{"wrong major", request(abi.Major+1, func(e *abi.Encoder) {
			e.AppendHello(abi.Hello{Major: abi.Major + 1})
		}), abi.Incompatible, fmt.Sprintf("host speaks ABI %d.%d, guest speaks ABI %d.%d", abi.Major+1, abi.Minor, abi.Major, abi.Minor)},
		{"ping before hello", request(abi.Major, func(e *abi.Encoder) { e.AppendPing() }), abi.NotOpen, ""},
		{"hello", request(abi.Major, func(e *abi.Encoder) {
			e.AppendHello(abi.Hello{Major: abi.Major, Minor: abi.Minor})
		}), abi.OK, ""},
		{"ping", request(abi.Major, func(e *abi.Encoder) { e.AppendPing() }), abi.OK, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, err := tr.RoundTrip(ctx, c.req)
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			st, msg := firstResult(t, resp)
			if st != c.want || !strings.Contains(msg, c.msg) {
				t.Fatalf("status %v %q, want %v containing %q", st, msg, c.want, c.msg)
			}
		})
	}
}

// TestClientRefusesBadGuests: a guest answering with something that is not a response frame, or
// with a response in another ABI major, is refused by the client at HELLO with a clear error.
func TestClientRefusesBadGuests(t *testing.T) {
	e := abi.NewEncoder(nil)
	e.AppendHeader(abi.ResponseMagic, abi.Major+1, 0, 1)
	e.AppendU8(uint8(abi.OK))
	future := e.Bytes()
	for _, c := range []struct {
		name string
		g    genModule
		want error
	}{
		{"echo", binding(1, nil, nil), abi.ErrProtocol}, // the request itself comes back
		{"garbage", answer([]byte("not a frame at all")), abi.ErrProtocol},
		{"empty", answer([]byte{}), abi.ErrProtocol},
		{"other major", answer(future), abi.ErrIncompatible},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, _ := compileGen(t, c.g)
			d, err := m.NewDriver(context.Background(), "")
			if err == nil {
				d.Close()
				t.Fatal("NewDriver succeeded")
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("NewDriver: %v; want an error wrapping %v", err, c.want)
			}
			t.Logf("%v", err)
		})
	}
}
