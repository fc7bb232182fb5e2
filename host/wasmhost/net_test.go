package wasmhost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockyard/dockyard/host/artifact"
	"github.com/dockyard/dockyard/internal/logtest"
	"github.com/dockyard/dockyard/internal/wasmbinding"
	"github.com/dockyard/dockyard/store"
)

var netWasm = &builtModule{dir: "testdata/netguest"}

// echoServer is a TCP echo server on 127.0.0.1 that counts its open connections.
type echoServer struct {
	ln   net.Listener
	addr string
	open atomic.Int64
	wg   sync.WaitGroup
}

func startEcho(t *testing.T) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echoServer{ln: ln, addr: ln.Addr().String()}
	var mu sync.Mutex
	var conns []net.Conn
	e.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			e.open.Add(1)
			e.wg.Go(func() {
				defer e.open.Add(-1)
				defer c.Close()
				io.Copy(c, c)
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		e.wg.Wait()
	})
	return e
}

// waitOpen waits until the server has n connections open.
func (e *echoServer) waitOpen(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.open.Load() != n {
		if time.Now().After(deadline) {
			t.Fatalf("the echo server has %d connections open, want %d", e.open.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// openNet compiles the network guest allowed to reach e (and allow, if given instead) and
// opens a store on it that goes on after a lost instance. It returns the log's recorder.
func openNet(t *testing.T, e *echoServer, allow []string, opts ...Option) (store.Store, *logtest.Recorder) {
	t.Helper()
	if allow == nil {
		allow = []string{e.addr}
	}
	rec := &logtest.Recorder{}
	opts = append([]Option{WithName("netguest"), WithLogger(slog.New(rec)), WithConnect(allow...), WithAcceptLoss(),
		WithDriverOptions(fmt.Appendf(nil, `{"endpoint": %q}`, e.addr))}, opts...)
	m := compileBuilt(t, netWasm, opts...)
	return openStore(t, m, ""), rec
}

// netGet asks the network guest to do what key says.
func netGet(t *testing.T, s store.Store, key string) (string, error) {
	t.Helper()
	var v []byte
	err := s.View(context.Background(), func(tx store.Tx) error {
		var err error
		v, err = tx.Get("net", key)
		return err
	})
	return string(v), err
}

func mustNetGet(t *testing.T, s store.Store, key string) string {
	t.Helper()
	v, err := netGet(t, s, key)
	if err != nil {
		t.Fatalf("%.40s: %v", key, err)
	}
	return v
}

// TestNetEcho: a guest whose Opener dials the endpoint of its options through the network of
// the binding talks to a TCP echo server, and its connection lives from call to call until the
// store closes.
func TestNetEcho(t *testing.T) {
	e := startEcho(t)
	s, _ := openNet(t, e, nil)
	if got := mustNetGet(t, s, "greeting"); got != "hello from the guest" {
		t.Errorf("the Opener's greeting came back as %q", got)
	}
	for _, msg := range []string{"a", "second message", strings.Repeat("x", 1000)} {
		if got := mustNetGet(t, s, "echo:"+msg); got != msg {
			t.Errorf("echo of %d bytes came back as %d bytes", len(msg), len(got))
		}
	}
	if got, want := mustNetGet(t, s, "addr"), "wasm-guest "+e.addr; got != want {
		t.Errorf("LocalAddr RemoteAddr = %q, want %q", got, want)
	}
	if got := mustNetGet(t, s, "readtimeout:50"); !strings.HasPrefix(got, "timeout=true net.Error.Timeout=true") {
		t.Errorf("a read past its deadline: %s", got)
	}
	if got := mustNetGet(t, s, "echo:after the timeout"); got != "after the timeout" {
		t.Errorf("echo after a read timeout: %q", got)
	}
	e.waitOpen(t, 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	e.waitOpen(t, 0) // the host closed the guest's connection with its instance
}

// TestNetRefused: a guest that dials an endpoint not on its list, or one on it under another
// name, is refused with an error saying so, the refusal is logged with the driver's name, and
// the host goes on serving.
func TestNetRefused(t *testing.T) {
	e := startEcho(t)
	s, rec := openNet(t, e, nil)
	_, port, _ := net.SplitHostPort(e.addr)
	for _, ep := range []string{"127.0.0.1:1", "localhost:" + port, "127.0.0.2:" + port, e.addr + " ", "[::1]:" + port} {
		_, err := netGet(t, s, "dial:"+ep)
		if err == nil || !strings.Contains(err.Error(), "not allowed") || !strings.Contains(err.Error(), strconv.Quote(ep)) {
			t.Errorf("dial %q: %v; want a refusal naming it", ep, err)
		}
		if errors.Is(err, store.ErrStoreLost) || errors.Is(err, ErrDeadline) {
			t.Fatalf("dial %q lost the instance: %v", ep, err)
		}
	}
	r, ok := rec.Find("wasm guest's connect refused: the endpoint is not in its sandbox's connect list")
	if !ok || r.Level != slog.LevelWarn {
		t.Fatalf("no refusal logged at WARN: %v", rec.Records())
	}
	attrs := map[string]string{}
	r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
	if attrs["module"] != "netguest" || attrs["endpoint"] != "127.0.0.1:1" {
		t.Errorf("the refusal's record has %v; want module netguest and endpoint 127.0.0.1:1", attrs)
	}
	if got := mustNetGet(t, s, "echo:still serving"); got != "still serving" {
		t.Errorf("echo after the refusals: %q", got)
	}

	// With nothing allowed, the Opener's own dial is refused, and the open says why.
	m := compileBuilt(t, netWasm, WithConnect(), WithDriverOptions(fmt.Appendf(nil, `{"endpoint": %q}`, e.addr)))
	if s, err := m.Open(context.Background(), ""); err == nil || !strings.Contains(err.Error(), "not allowed (the sandbox allows no endpoint)") {
		if err == nil {
			s.Close()
		}
		t.Errorf("Open with no endpoint allowed: %v", err)
	}
}

// TestNetConnectionLimit: a guest that opens connections until its limit gets a clear error
// there, its connections are counted and closed, and it can open more after closing some.
func TestNetConnectionLimit(t *testing.T) {
	e := startEcho(t)
	const limit = 5
	s, rec := openNet(t, e, nil, WithMaxConnections(limit))
	for round := range 2 {
		got := mustNetGet(t, s, "dialmany")
		want := fmt.Sprintf("%d: limit=true: ", limit-1) // the Opener's connection is one
		if !strings.HasPrefix(got, want) || !strings.Contains(got, "WithMaxConnections") {
			t.Fatalf("round %d: dialmany = %q, want %q and the limit's name", round, got, want)
		}
		e.waitOpen(t, limit)
		if n := mustNetGet(t, s, "closeall"); n != strconv.Itoa(limit-1) {
			t.Fatalf("closeall closed %s", n)
		}
		e.waitOpen(t, 1)
	}
	if _, ok := rec.Find("wasm guest reached its limit of connections; further connects fail"); !ok {
		t.Errorf("the limit was not logged: %v", rec.Records())
	}
	if got := mustNetGet(t, s, "echo:ok"); got != "ok" {
		t.Errorf("echo after the limit: %q", got)
	}
	// The default limit holds too, and a discarded instance's connections are closed.
	s2, _ := openNet(t, e, nil)
	got := mustNetGet(t, s2, "dialmany")
	if want := fmt.Sprintf("%d: limit=true", DefaultMaxConnections-1); !strings.HasPrefix(got, want) {
		t.Fatalf("dialmany under the default limit = %q, want %q", got, want)
	}
	e.waitOpen(t, 1+DefaultMaxConnections)
	s2.Close()
	e.waitOpen(t, 1)
}

// TestNetFlood: a guest that writes without end on a connection whose peer does not read is
// held back by the kernel's buffers, not buffered by the host: its write times out at its
// deadline, or at the call's, and the host's memory does not grow.
func TestNetFlood(t *testing.T) {
	e := startEcho(t) // echoes back what the guest never reads, so it stops reading too
	s, _ := openNet(t, e, nil, WithCallTimeout(2*time.Second))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	got := mustNetGet(t, s, "flood:300")
	n, _, _ := strings.Cut(got, ":")
	written, _ := strconv.Atoi(n)
	if !strings.Contains(got, "timeout=true") || written <= 0 || written > 256<<20 {
		t.Fatalf("flood with a write deadline = %q; want a timeout after a bounded number of bytes", got)
	}
	t.Logf("the guest wrote %d bytes before its write deadline", written)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 16<<20 {
		t.Errorf("the host's heap grew by %d bytes while the guest flooded", grew)
	}
	// Without a deadline of its own, the call's deadline stops it.
	start := time.Now()
	_, err := netGet(t, s, "flood:0")
	if !errors.Is(err, ErrDeadline) {
		t.Fatalf("flood without a deadline: %v; want ErrDeadline", err)
	}
	if took := time.Since(start); took > 2*time.Second+3*time.Second {
		t.Errorf("the flood was stopped after %v, its deadline being 2s", took)
	}
	if got := mustNetGet(t, s, "echo:after the flood"); got != "after the flood" {
		t.Errorf("echo in the fresh instance: %q", got)
	}
	e.waitOpen(t, 1)
}

// TestNetBlockedRead: a read blocked in the host does not hold the guest past its call's
// deadline: the call ends at the deadline with the instance discarded as for any deadline,
// its connection closed, and the host serves the next call from a fresh instance.
func TestNetBlockedRead(t *testing.T) {
	e := startEcho(t)
	const timeout = time.Second
	s, rec := openNet(t, e, nil, WithCallTimeout(timeout))
	mustNetGet(t, s, "echo:warm")
	// block reads through wasmnet, which waits in slices; rawblock waits in one read in the host.
	for round, verb := range []string{"block", "rawblock", "block", "rawblock"} {
		start := time.Now()
		_, err := netGet(t, s, verb)
		took := time.Since(start)
		if !errors.Is(err, ErrDeadline) || !strings.Contains(err.Error(), "dockyard_call exceeded its 1s deadline") {
			t.Fatalf("round %d: %s: a read blocked past the deadline: %v; want ErrDeadline", round, verb, err)
		}
		if took < timeout || took > timeout+2*time.Second {
			t.Errorf("round %d: %s: the blocked call ended after %v, its deadline being %v", round, verb, took, timeout)
		}
		if _, ok := rec.Find("wasm instance discarded"); !ok {
			t.Errorf("round %d: no discard logged", round)
		}
		// The next call gets a fresh instance, whose Opener dials again; the old connection is closed.
		if got := mustNetGet(t, s, "greeting"); got != "hello from the guest" {
			t.Fatalf("round %d: after the deadline: greeting %q", round, got)
		}
		e.waitOpen(t, 1)
	}
}

// TestNetImports: a module's imports from dockyard_net are checked as WASI's are: a function
// the host does not have, or one of another type, fails the load naming it; a right one loads.
func TestNetImports(t *testing.T) {
	withImport := func(fn string, typ int) []byte {
		g := binding(1, nil, nil)
		g.importForeign = true
		out := g.bytes()
		old := section(2, vec(cat(name("env"), name("f"), []byte{0x00}, uleb(typeVoid))))
		repl := section(2, vec(cat(name(wasmbinding.ImportNet), name(fn), []byte{0x00}, uleb(uint64(typ)))))
		if !bytes.Contains(out, old) {
			t.Fatal("the generated module has no import section to replace")
		}
		return bytes.Replace(out, old, repl, 1)
	}
	for _, c := range []struct {
		name, fn string
		typ      int
		want     string
	}{
		{"unknown", "listen", typeVoid, "imports function dockyard_net.listen, which this host's network (version 1: connect, read, write, close, last_error) does not have"},
		{"mistyped", "close", typeVoid, "imports function dockyard_net.close with type () -> (), want (i32) -> (i32)"},
		{"right", "close", typeBuffer, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := Compile(context.Background(), withImport(c.fn, c.typ), WithCacheDir(""), WithName("netimport"))
			if c.want == "" {
				if err != nil {
					t.Fatalf("Compile: %v", err)
				}
				m.Close(context.Background())
				return
			}
			if err == nil {
				m.Close(context.Background())
				t.Fatalf("Compile succeeded; want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Compile: %v; want %q", err, c.want)
			}
		})
	}
}

// TestWithConnectChecksEndpoints: WithConnect takes "host:port" endpoints only.
func TestWithConnectChecksEndpoints(t *testing.T) {
	for _, ep := range []string{"db.internal", "db:postgres", "db:0", ""} {
		if _, err := resolve("x", []Option{WithConnect("db:5432", ep)}); err == nil || !strings.Contains(err.Error(), "WithConnect") {
			t.Errorf("WithConnect(%q): %v", ep, err)
		}
	}
	if _, err := resolve("x", []Option{WithMaxConnections(0)}); err == nil {
		t.Error("WithMaxConnections(0) accepted")
	}
}

// TestArtifactConnect: a manifest's sandbox.connect becomes the module's WithConnect.
func TestArtifactConnect(t *testing.T) {
	a := &artifact.Artifact{Name: "kv", Logger: slog.New(slog.DiscardHandler),
		Sandbox: artifact.Sandbox{Connect: []string{"db.internal:5432", "[::1]:6379"}}}
	c, err := resolve("x", artifactOptions(a))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.connect, a.Sandbox.Connect) {
		t.Errorf("connect = %q, want %q", c.connect, a.Sandbox.Connect)
	}
	if c, _ := resolve("x", artifactOptions(&artifact.Artifact{Name: "kv"})); len(c.connect) != 0 {
		t.Errorf("with no sandbox.connect, connect = %q", c.connect)
	}
}
