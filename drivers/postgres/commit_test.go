package postgres_test

import (
	"bytes"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dockyard/dockyard/internal/pgtest"
	"github.com/dockyard/dockyard/store"
)

// cutProxy forwards TCP connections to a server and, when armed, cuts the connection whose
// client sends a write holding a marker: either before forwarding that write, or after
// forwarding it and letting the server act on it, but without passing its answer back.
type cutProxy struct {
	l      net.Listener
	target string

	mu      sync.Mutex
	marker  []byte // nil: not armed
	forward bool
	cuts    atomic.Int32
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{l: l, target: target}
	t.Cleanup(func() { _ = l.Close() })
	go p.serve()
	return p
}

func (p *cutProxy) port() int { return p.l.Addr().(*net.TCPAddr).Port }

// arm makes the proxy cut the next connection that sends marker, once; "" disarms it.
func (p *cutProxy) arm(marker string, forward bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.marker, p.forward = nil, forward
	if marker != "" {
		p.marker = []byte(marker)
	}
}

func (p *cutProxy) serve() {
	for {
		client, err := p.l.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		var muted atomic.Bool
		cut := func() { _ = client.Close(); _ = server.Close() }
		go func() { // server to client, until muted
			buf := make([]byte, 64<<10)
			for {
				n, err := server.Read(buf)
				if n > 0 && !muted.Load() {
					if _, werr := client.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			cut()
		}()
		go func() { // client to server, watching for the marker
			buf := make([]byte, 64<<10)
			for {
				n, err := client.Read(buf)
				if n > 0 {
					p.mu.Lock()
					hit := p.marker != nil && bytes.Contains(buf[:n], p.marker)
					forward := p.forward
					if hit {
						p.marker = nil
					}
					p.mu.Unlock()
					if hit {
						muted.Store(true)
						if forward {
							_, _ = server.Write(buf[:n])
							time.Sleep(300 * time.Millisecond) // the server acts on it
						}
						p.cuts.Add(1)
						cut()
						return
					}
					if _, werr := server.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			cut()
		}()
	}
}

// TestCommitUnknown cuts the connection in the middle of an Update's COMMIT, before and after
// it reaches the server: both are reported as store.ErrCommitUnknown, fn ran once, and the
// store works again at once. Cut during a read instead, the Update fails without that
// uncertainty and nothing is committed.
func TestCommitUnknown(t *testing.T) {
	base := pgtest.DSN(t)
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCutProxy(t, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	dsn := base
	for _, kv := range [][2]string{
		{"host", "127.0.0.1"}, {"port", strconv.Itoa(proxy.port())}, {"dockyard_table", "unknown"},
		// In exec mode pgx sends each statement's text with it, so the proxy can see the COMMIT.
		{"default_query_exec_mode", "exec"},
	} {
		if dsn, err = pgtest.WithParam(dsn, kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	s := openT(t, dsn)
	mustUpdate(t, s, func(tx store.Tx) error { return tx.Put("ns", "warm", []byte("up")) })
	for _, c := range []struct {
		name, marker string
		forward      bool
		read         bool // fn reads before writing
		unknown      bool // the error wraps ErrCommitUnknown
		committed    bool
	}{
		{name: "commit-lost", marker: "COMMIT\x00", unknown: true},
		{name: "commit-done", marker: "COMMIT\x00", forward: true, unknown: true, committed: true},
		{name: "read-lost", marker: "SELECT v FROM", read: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs := 0
			proxy.arm(c.marker, c.forward)
			cutsBefore := proxy.cuts.Load()
			err := s.Update(t.Context(), func(tx store.Tx) error {
				runs++
				if c.read {
					if _, err := tx.Get("ns", "warm"); err != nil {
						return err
					}
				}
				return tx.Put("ns", c.name, []byte("x"))
			})
			proxy.arm("", false)
			if proxy.cuts.Load() != cutsBefore+1 {
				t.Fatalf("the proxy did not cut the connection (Update: %v)", err)
			}
			t.Logf("Update: %v", err)
			switch {
			case err == nil:
				t.Fatalf("Update succeeded across a cut connection")
			case runs != 1:
				t.Fatalf("fn ran %d times, want 1", runs)
			case errors.Is(err, store.ErrCommitUnknown) != c.unknown:
				t.Fatalf("Update: %v; want ErrCommitUnknown: %v", err, c.unknown)
			}
			var got bool
			err = s.View(t.Context(), func(tx store.Tx) error {
				_, err := tx.Get("ns", c.name)
				got = err == nil
				if errors.Is(err, store.ErrNotFound) {
					return nil
				}
				return err
			})
			if err != nil {
				t.Fatalf("View after the cut: %v", err)
			}
			if got != c.committed {
				t.Fatalf("the write is there: %v, want %v", got, c.committed)
			}
			mustUpdate(t, s, func(tx store.Tx) error { return tx.Put("ns", "after", []byte(c.name)) })
		})
	}
}
