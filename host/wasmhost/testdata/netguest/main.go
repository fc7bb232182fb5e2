//go:build wasip1

// Command netguest is a wasm driver module that uses the network of the wasm binding, for
// host/wasmhost's network tests. It serves drivers/inmem; its Opener dials the endpoint of its
// options ({"endpoint": "host:port"}, an echo server), writes a greeting and reads it back. A
// Get in the namespace "net" does what its key says with the network instead.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/pdk/wasmguest"
	"github.com/dockyard/dockyard/pdk/wasmnet"
)

func init() {
	wasmguest.Serve(func(ctx context.Context, h abi.Hello) (pdk.Driver, error) {
		var opts struct{ Endpoint string }
		if err := json.Unmarshal(h.Options, &opts); err != nil {
			return nil, fmt.Errorf("netguest: options: %w", err)
		}
		d := &driver{Driver: inmem.NewDriver(), endpoint: opts.Endpoint}
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		c, err := wasmnet.Dial(dctx, "tcp", opts.Endpoint)
		if err != nil {
			return nil, err
		}
		d.conn = c
		if d.greeting, err = d.echo("hello from the guest"); err != nil {
			return nil, err
		}
		return d, nil
	})
}

func main() {}

type driver struct {
	pdk.Driver
	endpoint string
	conn     net.Conn   // to endpoint, dialed by the Opener
	greeting []byte     // what the echo server answered the Opener
	extra    []net.Conn // dialed by "dial" and "dialmany"
}

// echo writes msg on the driver's connection and reads as many bytes back.
func (d *driver) echo(msg string) ([]byte, error) {
	if _, err := d.conn.Write([]byte(msg)); err != nil {
		return nil, err
	}
	b := make([]byte, len(msg))
	_, err := io.ReadFull(d.conn, b)
	return b, err
}

func (d *driver) Begin(ctx context.Context, writable bool) (pdk.Txn, error) {
	tx, err := d.Driver.Begin(ctx, writable)
	if err != nil {
		return nil, err
	}
	return &txn{Txn: tx, d: d}, nil
}

type txn struct {
	pdk.Txn
	d *driver
}

func (t *txn) Get(ctx context.Context, ns, key string) ([]byte, error) {
	if ns == "net" {
		return t.d.do(ctx, key)
	}
	return t.Txn.Get(ctx, ns, key)
}

// do does what key says: "verb" or "verb:argument".
func (d *driver) do(ctx context.Context, key string) ([]byte, error) {
	verb, arg, _ := strings.Cut(key, ":")
	ms, _ := strconv.Atoi(arg)
	switch verb {
	case "greeting":
		return d.greeting, nil
	case "echo": // echo:msg
		return d.echo(arg)
	case "addr":
		return []byte(d.conn.LocalAddr().String() + " " + d.conn.RemoteAddr().String()), nil
	case "dial": // dial:endpoint, kept open
		c, err := wasmnet.Dial(ctx, "tcp", arg)
		if err != nil {
			return nil, err
		}
		d.extra = append(d.extra, c)
		return []byte("connected"), nil
	case "dialmany": // the driver's endpoint, until a dial fails: "n: error"
		n := 0
		for ; n < 100000; n++ {
			c, err := wasmnet.Dial(ctx, "tcp", d.endpoint)
			if err != nil {
				return fmt.Appendf(nil, "%d: limit=%v: %v", n, errors.Is(err, wasmnet.ErrLimit), err), nil
			}
			d.extra = append(d.extra, c)
		}
		return fmt.Appendf(nil, "%d: no error", n), nil
	case "closeall":
		for _, c := range d.extra {
			c.Close()
		}
		n := len(d.extra)
		d.extra = nil
		return []byte(strconv.Itoa(n)), nil
	case "flood": // flood:ms - write without reading, with a write deadline ms from now (0: none)
		d.conn.SetWriteDeadline(time.Time{})
		if ms > 0 {
			d.conn.SetWriteDeadline(time.Now().Add(time.Duration(ms) * time.Millisecond))
		}
		chunk := make([]byte, 1<<20)
		total := 0
		for {
			n, err := d.conn.Write(chunk)
			total += n
			if err != nil {
				return fmt.Appendf(nil, "%d: timeout=%v: %v", total, errors.Is(err, os.ErrDeadlineExceeded), err), nil
			}
		}
	case "block": // read with no deadline from a server that sends nothing
		_, err := d.conn.Read(make([]byte, 1))
		return nil, fmt.Errorf("the read returned: %v", err)
	case "rawblock": // one read in the host with no timeout, on a connection of its own
		ep := []byte(d.endpoint)
		h := rawConnect(unsafe.Pointer(unsafe.SliceData(ep)), uint32(len(ep)), 0)
		if h <= 0 {
			return nil, fmt.Errorf("rawblock: connect returned %d", h)
		}
		buf := make([]byte, 1)
		n := rawRead(h, unsafe.Pointer(unsafe.SliceData(buf)), 1, 0)
		return nil, fmt.Errorf("rawblock: the read returned %d", n)
	case "readtimeout": // readtimeout:ms
		d.conn.SetReadDeadline(time.Now().Add(time.Duration(ms) * time.Millisecond))
		defer d.conn.SetReadDeadline(time.Time{})
		_, err := d.conn.Read(make([]byte, 1))
		var ne net.Error
		return fmt.Appendf(nil, "timeout=%v net.Error.Timeout=%v: %v", errors.Is(err, os.ErrDeadlineExceeded),
			errors.As(err, &ne) && ne.Timeout(), err), nil
	}
	return nil, fmt.Errorf("netguest: unknown verb %q", verb)
}

// The network's functions themselves, to block in one read with no timeout (package wasmnet
// waits in slices).
//
//go:wasmimport dockyard_net connect
func rawConnect(addr unsafe.Pointer, n uint32, timeoutNS int64) int32

//go:wasmimport dockyard_net read
func rawRead(h int32, buf unsafe.Pointer, n uint32, timeoutNS int64) int32
