// Package wasmnet gives a Go driver compiled to WebAssembly (GOOS=wasip1, served by
// pdk/wasmguest) TCP connections to the endpoints its sandbox allows, and nothing else: a
// net.Conn over the optional network of the wasm binding (docs/abi.md, "Network (optional)").
// The host lists the endpoints (a manifest's sandbox.connect, wasmhost.WithConnect); the
// guest names one exactly as listed, and the host resolves the name and dials it.
//
// Dial has the signature of a client library's dial function, and LookupHost that of its
// name lookup, which must leave the name to the host. For pgx:
//
//	cfg, err := pgx.ParseConfig(dsn)
//	cfg.DialFunc = wasmnet.Dial         // the host dials ...
//	cfg.LookupFunc = wasmnet.LookupHost // ... the name as it is listed, resolved by the host
//
// A connection's Read and Write honour its deadlines (SetDeadline, SetReadDeadline,
// SetWriteDeadline) by passing the host a timeout; every one of them is bounded besides by the
// deadline of the call into the guest, which stops the guest, connection and all. A wasm guest
// runs on one thread, so while a read waits in the host no other goroutine of the guest runs:
// a wait is cut into slices of at most 20 ms, between which the guest's other goroutines run
// (a client library that writes on one goroutine while another reads does not deadlock).
//
// Outside a wasm guest (any other GOOS), the package builds, and every function fails with an
// error wrapping ErrNotWasm.
package wasmnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/dockyard/dockyard/internal/wasmbinding"
)

var (
	// ErrNotWasm is wrapped by every error outside a wasm guest run by a Dockyard host.
	ErrNotWasm = errors.New("wasmnet: only works in a wasm guest (GOOS=wasip1) run by a Dockyard host")
	// ErrNotAllowed is wrapped by the error of a Dial to an endpoint the sandbox does not list
	// (the host logs the attempt).
	ErrNotAllowed = errors.New("endpoint not allowed by the sandbox")
	// ErrLimit is wrapped by the error of a Dial while the instance has as many connections
	// open as it may (wasmhost.WithMaxConnections).
	ErrLimit = errors.New("too many connections open")
)

// errNotWasm is the stub's code for every function (host_other.go).
const errNotWasm = -1000

// waitSlice is the longest one read or write waits in the host before the guest's other
// goroutines get a turn.
const waitSlice = 20 * time.Millisecond

// Dial opens a TCP connection to addr, which must be one of the sandbox's endpoints exactly as
// it lists it ("db.internal:5432"). network must be "tcp", "tcp4" or "tcp6"; the host dials
// "tcp" whichever it is. ctx's deadline bounds the connect; a cancellation of ctx after the
// connect has begun does not interrupt it (the guest runs nothing while it waits), but the call's
// deadline does.
func Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: network, Addr: Addr{Net: network, Endpoint: addr}, Err: err}
	}
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, opErr(net.UnknownNetworkError(network))
	}
	if err := ctx.Err(); err != nil {
		return nil, opErr(err)
	}
	var timeout int64
	if d, ok := ctx.Deadline(); ok {
		rem := time.Until(d)
		if rem <= 0 {
			return nil, opErr(context.DeadlineExceeded)
		}
		timeout = int64(rem)
	}
	h := hostConnect(addr, timeout)
	if h < 0 {
		if h == wasmbinding.NetErrTimeout && ctx.Err() != nil {
			return nil, opErr(ctx.Err())
		}
		return nil, opErr(codeError(h))
	}
	return &Conn{h: h, remote: Addr{Net: "tcp", Endpoint: addr}}, nil
}

// LookupHost returns host itself, unresolved: names are resolved by the host, which dials
// the endpoint as the sandbox lists it. It has the signature of a client library's lookup
// function (pgx's LookupFunc), so that the library hands Dial the name rather than resolving
// it in the guest, which cannot.
func LookupHost(_ context.Context, host string) ([]string, error) {
	return []string{host}, nil
}

// Addr is the address of an endpoint: its network and the endpoint as the sandbox lists it.
type Addr struct {
	Net, Endpoint string
}

// Network returns a.Net.
func (a Addr) Network() string { return a.Net }

// String returns a.Endpoint.
func (a Addr) String() string { return a.Endpoint }

// localAddr stands for the host's end of every connection, which the guest is not told.
var localAddr = Addr{Net: "tcp", Endpoint: "wasm-guest"}

// Conn is a TCP connection the host holds for the guest. It is a net.Conn; Close it when done
// (the host closes what is left when the instance is discarded or its store closed).
type Conn struct {
	h      int32
	remote Addr

	mu       sync.Mutex // guards what follows
	rdl, wdl time.Time  // deadlines of reads and writes, zero for none
	closed   bool
}

// wait returns the timeout of the next read or write in the host under *dl: at most
// waitSlice, less when the deadline is nearer; or an error once the deadline has passed or
// the connection is closed.
func (c *Conn) wait(dl *time.Time) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	if dl.IsZero() {
		return int64(waitSlice), nil
	}
	rem := time.Until(*dl)
	if rem <= 0 {
		return 0, os.ErrDeadlineExceeded
	}
	return int64(min(rem, waitSlice)), nil
}

func (c *Conn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: localAddr, Addr: c.remote, Err: err}
}

// failed is the error of an operation that got code from the host.
func (c *Conn) failed(op string, code int32) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed && code == wasmbinding.NetErrBadHandle {
		return c.opError(op, net.ErrClosed) // closed by another goroutine meanwhile
	}
	return c.opError(op, codeError(code))
}

// Read reads at most len(p) bytes, waiting for at least one until the read deadline (if any).
// It returns io.EOF at the end of the stream.
func (c *Conn) Read(p []byte) (int, error) {
	for {
		timeout, err := c.wait(&c.rdl)
		if err != nil {
			return 0, c.opError("read", err)
		}
		if len(p) == 0 {
			return 0, nil
		}
		n := hostRead(c.h, p[:min(len(p), wasmbinding.NetMaxIO)], timeout)
		switch {
		case n > 0:
			return int(n), nil
		case n == 0:
			return 0, io.EOF
		case n != wasmbinding.NetErrTimeout:
			return 0, c.failed("read", n)
		}
		runtime.Gosched() // a slice of the wait is over: let the guest's other goroutines run
	}
}

// Write writes all of p, unless the write deadline passes first or the connection fails.
func (c *Conn) Write(p []byte) (int, error) {
	done := 0
	for {
		timeout, err := c.wait(&c.wdl)
		if err != nil {
			return done, c.opError("write", err)
		}
		if done == len(p) {
			return done, nil
		}
		n := hostWrite(c.h, p[done:min(len(p), done+wasmbinding.NetMaxIO)], timeout)
		switch {
		case n > 0:
			done += int(n)
			continue
		case n == 0:
			return done, c.opError("write", io.ErrShortWrite)
		case n != wasmbinding.NetErrTimeout:
			return done, c.failed("write", n)
		}
		runtime.Gosched()
	}
}

// Close closes the connection. A Read or Write after it fails with net.ErrClosed.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return c.opError("close", net.ErrClosed)
	}
	c.closed = true
	c.mu.Unlock()
	if code := hostClose(c.h); code < 0 {
		return c.opError("close", codeError(code))
	}
	return nil
}

// LocalAddr returns a stand-in for the host's end of the connection, which the guest is not
// told: network "tcp", address "wasm-guest".
func (c *Conn) LocalAddr() net.Addr { return localAddr }

// RemoteAddr returns the endpoint as the sandbox lists it (not the address the host resolved
// it to).
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

// SetDeadline sets the deadline of reads and writes; zero is none.
func (c *Conn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rdl, c.wdl = t, t
	return nil
}

// SetReadDeadline sets the deadline of reads; zero is none.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rdl = t
	return nil
}

// SetWriteDeadline sets the deadline of writes; zero is none.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wdl = t
	return nil
}

// hostError is an error code of the host, with its message.
type hostError struct {
	code int32
	msg  string
}

func (e *hostError) Error() string {
	if e.msg == "" {
		return fmt.Sprintf("host network error %d", e.code)
	}
	return e.msg
}

// Unwrap returns the sentinel of the code, if it has one.
func (e *hostError) Unwrap() error {
	switch e.code {
	case wasmbinding.NetErrNotAllowed:
		return ErrNotAllowed
	case wasmbinding.NetErrLimit:
		return ErrLimit
	case wasmbinding.NetErrTimeout:
		return os.ErrDeadlineExceeded
	}
	return nil
}

// Timeout reports whether the host's timeout passed.
func (e *hostError) Timeout() bool { return e.code == wasmbinding.NetErrTimeout }

// codeError is the error of a host function that returned code.
func codeError(code int32) error {
	if code == errNotWasm {
		return ErrNotWasm
	}
	return &hostError{code: code, msg: hostLastError()}
}

var _ net.Conn = (*Conn)(nil)
