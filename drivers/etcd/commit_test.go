package etcd_test

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockyard/dockyard/drivers/etcd"
	"github.com/dockyard/dockyard/internal/etcdtest"
	"github.com/dockyard/dockyard/store"
)

// cutProxy forwards TCP connections to target. Once armed with a marker, the first bytes a
// client sends that contain the marker (a value only the commit request carries) are
// forwarded, and then its connection goes silent: nothing more reaches the client, and after a
// moment its connection is closed. The request reaches the cluster, but its answer never comes
// back: the client cannot know what became of it.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	marker []byte // nil: not armed
	cuts   atomic.Int32
	wg     sync.WaitGroup
}

func (p *cutProxy) arm(marker []byte) {
	p.mu.Lock()
	p.marker = marker
	p.mu.Unlock()
}

// trip reports whether chunk carries the armed marker, disarming it if so.
func (p *cutProxy) trip(chunk []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.marker == nil || !bytes.Contains(chunk, p.marker) {
		return false
	}
	p.marker = nil
	return true
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { _ = ln.Close(); p.wg.Wait() })
	return p
}

func (p *cutProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		var silent atomic.Bool
		go func() { // cluster -> client
			buf := make([]byte, 32<<10)
			for {
				n, err := s.Read(buf)
				if n > 0 && !silent.Load() {
					if _, werr := c.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			_ = c.Close()
		}()
		go func() { // client -> cluster
			defer s.Close()
			buf := make([]byte, 32<<10)
			var tail []byte // the end of the bytes before, so that a marker split across reads is found
			for {
				n, err := c.Read(buf)
				if n > 0 {
					seen := append(tail, buf[:n]...)
					if !silent.Load() && p.trip(seen) {
						// Silent before the request goes on, so that no answer can slip back;
						// the rest of the request still goes through, and in a moment the
						// client's connection is closed.
						silent.Store(true)
						p.cuts.Add(1)
						time.AfterFunc(500*time.Millisecond, func() { _ = c.Close() })
					}
					tail = append(tail[:0], seen[max(0, len(seen)-64):]...)
					if _, werr := s.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// TestCommitUnknown cuts the connection between the request that commits an Update and its
// answer: the commit takes effect on the cluster, the client never hears so, and Update must
// say the outcome is unknown (store.ErrCommitUnknown), never that it failed. Both commit paths
// are cut: the fenced commit of an Update that read, and the lock-free one of an Update that only
// wrote.
func TestCommitUnknown(t *testing.T) {
	dsn := etcdtest.DSN(t)
	d, err := etcd.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := newCutProxy(t, d.Endpoints[0])
	viaProxy := d
	viaProxy.Endpoints = []string{p.ln.Addr().String()}
	s := openT(t, viaProxy.String(), etcd.WithRequestTimeout(3*time.Second))
	direct := openT(t, dsn)
	for _, readFirst := range []bool{true, false} {
		value := []byte("written when the read came first: " + map[bool]string{true: "yes", false: "no"}[readFirst])
		err := s.Update(t.Context(), func(tx store.Tx) error {
			if readFirst {
				if _, err := tx.Get("ns", "k"); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
			if err := tx.Put("ns", "k", value); err != nil {
				return err
			}
			p.arm(value) // the commit request carries it
			return nil
		})
		if !errors.Is(err, store.ErrCommitUnknown) {
			t.Fatalf("Update (reading first: %v) whose commit's answer was lost: %v, want store.ErrCommitUnknown", readFirst, err)
		}
		t.Logf("reading first: %v: %v", readFirst, err)
		if v := get(t, direct); v != string(value) {
			t.Fatalf("k = %q, want the Update's value: the commit reached the cluster", v)
		}
	}
	if p.cuts.Load() != 2 {
		t.Fatalf("%d connections cut, want 2", p.cuts.Load())
	}
	// The store serves again through the proxy.
	mustUpdate(t, s, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("after")) })
}
