package wasmhost

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"github.com/dockyard/dockyard/internal/logtest"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/pdk/abi"
)

// logRecorder is a slog.Handler keeping every record, for tests that look at logs.
type logRecorder = logtest.Recorder

func attr(r slog.Record, key string) string {
	var v string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value.String()
			return false
		}
		return true
	})
	return v
}

// compileGen compiles a hand-made module with a recorded logger and no disk cache.
func compileGen(t *testing.T, g genModule, opts ...Option) (*Module, *logRecorder) {
	t.Helper()
	rec := &logRecorder{}
	opts = append([]Option{WithCacheDir(""), WithLogger(slog.New(rec)), WithName("gen")}, opts...)
	m, err := Compile(context.Background(), g.bytes(), opts...)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	return m, rec
}

func newTestTransport(t *testing.T, m *Module, dsn string) *transport {
	t.Helper()
	tr, err := newTransport(m, dsn, false)
	if err != nil {
		t.Fatalf("newTransport: %v", err)
	}
	t.Cleanup(func() { tr.close() })
	return tr
}

// wantInstanceError checks err is an *InstanceError wrapping abi.ErrBroken and kind, whose
// message contains want.
func wantInstanceError(t *testing.T, err error, kind error, want string) {
	t.Helper()
	var ie *InstanceError
	switch {
	case err == nil:
		t.Fatalf("got no error, want one containing %q", want)
	case !errors.As(err, &ie) || !errors.Is(err, abi.ErrBroken):
		t.Fatalf("error %q (%T) is not an InstanceError wrapping abi.ErrBroken", err, err)
	case kind != nil && !errors.Is(err, kind):
		t.Fatalf("error %q does not wrap %v", err, kind)
	case !strings.Contains(err.Error(), want):
		t.Fatalf("error %q does not contain %q", err, want)
	}
}

func TestEchoModule(t *testing.T) {
	m, _ := compileGen(t, binding(1, nil, nil))
	tr := newTestTransport(t, m, "")
	for _, req := range []string{"", "x", strings.Repeat("frame", 1000)} {
		resp, err := tr.RoundTrip(context.Background(), []byte(req))
		if err != nil || string(resp) != req {
			t.Fatalf("RoundTrip(%d bytes) = %d bytes, %v; want the request back", len(req), len(resp), err)
		}
	}
}

func TestCompileChecksBinding(t *testing.T) {
	good := binding(1, nil, nil)
	noCall := good
	noCall.funcs = good.funcs[:2]
	wrongType := binding(1, nil, nil)
	wrongType.funcs = append([]genFunc(nil), good.funcs...)
	wrongType.funcs[2] = genFunc{name: "dockyard_call", typ: typeBuffer, body: i32c(0)}
	noMemory := good
	noMemory.noMemory = true
	foreign := good
	foreign.importForeign = true
	unknownWASI := good
	unknownWASI.importWASI, unknownWASI.wasiName, unknownWASI.wasiType = true, "no_such_call", typeVoid
	mistypedWASI := good
	mistypedWASI.importWASI, mistypedWASI.wasiName, mistypedWASI.wasiType = true, "sched_yield", typeVoid
	for _, c := range []struct {
		name string
		g    genModule
		opts []Option
		want string
	}{
		{"missing export", noCall, nil, `missing export "dockyard_call" (func (i32) -> i64)`},
		{"wrong type", wrongType, nil, `export "dockyard_call" has type (i32) -> (i32), want (i32) -> i64`},
		{"no memory", noMemory, nil, `missing export "memory"`},
		{"foreign import", foreign, nil, "imports function env.f: only wasi_snapshot_preview1 is provided"},
		{"unknown WASI import", unknownWASI, nil, "imports function wasi_snapshot_preview1.no_such_call, which WASI preview 1 does not have"},
		{"mistyped WASI import", mistypedWASI, nil, "imports function wasi_snapshot_preview1.sched_yield with type () -> (), want () -> (i32)"},
		{"memory over limit", binding(32, nil, nil), []Option{WithMemoryLimit(1 << 20)},
			"min 32 pages (2 Mi) over limit of 16 pages (1 Mi)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := append([]Option{WithCacheDir(""), WithName("bad")}, c.opts...)
			m, err := Compile(context.Background(), c.g.bytes(), opts...)
			if err == nil {
				m.Close(context.Background())
				t.Fatalf("Compile succeeded; want an error containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `module "bad"`) {
				t.Fatalf("Compile error %q does not name the module and contain %q", err, c.want)
			}
		})
	}
}

func TestBadOptions(t *testing.T) {
	for _, o := range []Option{WithMaxResponse(1 << 20), WithMemoryLimit(0), WithCallTimeout(0)} {
		if m, err := Compile(context.Background(), binding(1, nil, nil).bytes(), WithCacheDir(""), o); err == nil {
			m.Close(context.Background())
			t.Errorf("Compile accepted a bad option")
		}
	}
}

func TestBufferPastMemory(t *testing.T) {
	m, rec := compileGen(t, binding(1, i32c(65530), nil))
	tr := newTestTransport(t, m, "")
	_, err := tr.RoundTrip(context.Background(), make([]byte, 100))
	// The host asks for at least minRequestBuffer bytes, and the whole of what it asked for
	// must lie in memory.
	wantInstanceError(t, err, ErrBadResponse, "guest's dockyard_buffer(16384) returned buffer [65530,81914) past its 65536-byte memory")
	if _, ok := rec.Find("wasm instance discarded"); !ok {
		t.Errorf("no log of the discarded instance")
	}
}

// countBuffers is a dockyard_buffer body that counts its calls in the u32 at address 4 and
// returns the buffer at 1024; answerCount is a dockyard_call body answering that count.
var (
	countBuffers = cat(i32c(4), i32c(4), []byte{0x28, 0x02, 0x00}, i32c(1), []byte{0x6a}, // mem[4] + 1
		[]byte{0x36, 0x02, 0x00}, i32c(1024)) // mem[4] = ...; return 1024
	answerCount = i64c(4<<32 | 4)
)

// TestBufferReused: the host calls dockyard_buffer only for the first request of an instance,
// a request larger than the buffer it asked for last, or a small request after a large one
// (so that the guest may release the large buffer); otherwise a crossing is one call.
func TestBufferReused(t *testing.T) {
	m, _ := compileGen(t, binding(32, countBuffers, answerCount))
	tr := newTestTransport(t, m, "")
	for i, c := range []struct {
		size  int
		calls uint32 // dockyard_buffer calls the guest has seen after the request
	}{
		{10, 1},                      // fresh instance
		{100, 1},                     // fits the first buffer (minRequestBuffer)
		{minRequestBuffer, 1},        // still fits
		{minRequestBuffer + 1, 2},    // larger
		{minRequestBuffer + 1, 2},    // fits
		{keepRequestBuffer + 1, 3},   // larger
		{keepRequestBuffer, 3},       // fits
		{keepRequestBuffer / 4, 4},   // small after large: ask again
		{keepRequestBuffer / 4, 4},   // fits the buffer asked for last
		{keepRequestBuffer/4 + 1, 5}, // larger
	} {
		resp, err := tr.RoundTrip(context.Background(), make([]byte, c.size))
		if err != nil {
			t.Fatalf("request %d (%d bytes): %v", i, c.size, err)
		}
		if got := binary.LittleEndian.Uint32(resp); got != c.calls || tr.bufferCalls != uint64(c.calls) {
			t.Fatalf("after request %d (%d bytes): guest saw %d dockyard_buffer calls, host made %d; want %d",
				i, c.size, got, tr.bufferCalls, c.calls)
		}
	}
	// A fresh instance starts again with dockyard_buffer.
	tr.discard(&InstanceError{Module: "gen", Reason: "test"})
	resp, err := tr.RoundTrip(context.Background(), []byte("x"))
	if err != nil || binary.LittleEndian.Uint32(resp) != 1 {
		t.Fatalf("first request of a fresh instance: %x, %v; want a dockyard_buffer call", resp, err)
	}
}

// TestReusedBufferIsChecked: the buffer pointer is checked against the memory on every
// crossing, not only when dockyard_buffer returned it.
func TestReusedBufferIsChecked(t *testing.T) {
	m, _ := compileGen(t, binding(1, nil, nil))
	tr := newTestTransport(t, m, "")
	if _, err := tr.RoundTrip(context.Background(), []byte("fine")); err != nil {
		t.Fatal(err)
	}
	tr.inst.bufPtr = 65530 // as if the guest's word had changed under the host
	calls := tr.bufferCalls
	_, err := tr.RoundTrip(context.Background(), make([]byte, 100))
	wantInstanceError(t, err, ErrBadResponse, "guest's request buffer [65530,65630) lies past its 65536-byte memory")
	if tr.bufferCalls != calls || tr.inst != nil {
		t.Fatalf("the out-of-bounds buffer was reached through dockyard_buffer, or the instance was kept")
	}
}

func TestResponsePastMemory(t *testing.T) {
	m, _ := compileGen(t, binding(1, nil, i64c(65500<<32|100)))
	tr := newTestTransport(t, m, "")
	_, err := tr.RoundTrip(context.Background(), []byte("req"))
	wantInstanceError(t, err, ErrBadResponse, "guest returned response [65500,65600) past its 65536-byte memory")
}

func TestResponseOverLimit(t *testing.T) {
	m, _ := compileGen(t, binding(160, nil, i64c(8<<20)), WithMaxResponse(MinMaxResponse))
	tr := newTestTransport(t, m, "")
	_, err := tr.RoundTrip(context.Background(), []byte("req"))
	wantInstanceError(t, err, ErrBadResponse, "guest returned a 8388608-byte response, over the 6291456-byte limit")
}

func TestTrapThenFreshInstance(t *testing.T) {
	// dockyard_call traps on a 13-byte request and echoes anything else.
	m, _ := compileGen(t, binding(1, nil, cat(when(13, insUnreachable), echo)))
	tr := newTestTransport(t, m, "")
	ctx := context.Background()
	if _, err := tr.RoundTrip(ctx, []byte("before")); err != nil {
		t.Fatal(err)
	}
	first := tr.inst
	_, err := tr.RoundTrip(ctx, []byte("thirteen byte"))
	wantInstanceError(t, err, nil, "guest trapped in dockyard_call: wasm error: unreachable")
	if tr.inst != nil {
		t.Fatalf("the trapped instance was kept")
	}
	if !first.mod.IsClosed() {
		t.Errorf("the trapped instance was not closed")
	}
	resp, err := tr.RoundTrip(ctx, []byte("after"))
	if err != nil || string(resp) != "after" {
		t.Fatalf("RoundTrip after the trap = %q, %v; want a fresh instance echoing", resp, err)
	}
}

func TestDeadlineThenFreshInstance(t *testing.T) {
	// dockyard_call loops forever on a 7-byte request.
	m, _ := compileGen(t, binding(1, nil, cat(when(7, insLoopForever), echo)), WithCallTimeout(100*time.Millisecond))
	tr := newTestTransport(t, m, "")
	ctx := context.Background()
	start := time.Now()
	_, err := tr.RoundTrip(ctx, []byte("forever"))
	wantInstanceError(t, err, ErrDeadline, "dockyard_call exceeded its 100ms deadline")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the runaway call took %v to stop", d)
	}
	resp, err := tr.RoundTrip(ctx, []byte("after"))
	if err != nil || string(resp) != "after" {
		t.Fatalf("RoundTrip after the deadline = %q, %v; want a fresh instance echoing", resp, err)
	}
}

func TestCallerCancelDoesNotKillCall(t *testing.T) {
	m, _ := compileGen(t, binding(1, nil, nil))
	tr := newTestTransport(t, m, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tr.RoundTrip(ctx, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("RoundTrip with a cancelled context = %v, want context.Canceled", err)
	}
	if tr.inst != nil {
		t.Fatalf("a cancelled context instantiated the module")
	}
}

func TestInstantiateFailure(t *testing.T) {
	g := binding(1, nil, nil)
	g.funcs[0].body = insUnreachable // _initialize traps
	m, _ := compileGen(t, g)
	tr := newTestTransport(t, m, "")
	_, err := tr.RoundTrip(context.Background(), []byte("x"))
	wantInstanceError(t, err, nil, "instantiate: _initialize: ")
	if !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("error %q does not say what failed", err)
	}
}

func TestTrustedMode(t *testing.T) {
	m, _ := compileGen(t, binding(1, nil, nil), WithTrusted())
	tr := newTestTransport(t, m, "")
	resp, err := tr.RoundTrip(context.Background(), []byte("trusted"))
	if err != nil || !bytes.Equal(resp, []byte("trusted")) {
		t.Fatalf("RoundTrip = %q, %v", resp, err)
	}
}

func TestClosedTransport(t *testing.T) {
	m, _ := compileGen(t, binding(1, nil, nil))
	tr := newTestTransport(t, m, "")
	if err := tr.close(); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.RoundTrip(context.Background(), []byte("x")); err == nil {
		t.Fatal("RoundTrip after close succeeded")
	}
	if err := tr.close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

// TestFourGiBMemory: a guest whose memory has the largest size, 4 GiB (which wazero's uint32
// Size wraps to 0), is served: its answers are checked against 4 GiB, not 0 bytes.
func TestFourGiBMemory(t *testing.T) {
	m, _ := compileGen(t, binding(1<<16, nil, nil), WithMemoryLimit(4<<30))
	tr := newTestTransport(t, m, "")
	resp, err := tr.RoundTrip(context.Background(), []byte("large"))
	if err != nil || string(resp) != "large" {
		t.Fatalf("RoundTrip = %q, %v", resp, err)
	}
}
