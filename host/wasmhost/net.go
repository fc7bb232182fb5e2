package wasmhost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/dockyard/dockyard/internal/wasmbinding"
)

// This file is the optional network of the wasm binding (docs/abi.md, "Network (optional)"):
// the host functions of the import module dockyard_net, through which a guest opens TCP
// connections to the endpoints of WithConnect, and nothing else. The host resolves the names
// and dials; the guest gets a handle. Every function runs on the goroutine of the call into
// the guest, so at most one runs at a time per instance; the watchdog, on its own goroutine,
// interrupts a read or write blocked in one (netState.interrupt) when the call's deadline
// passes, and the function then traps the guest as yield would.

// netFunc is one function of the host module.
type netFunc struct {
	name            string
	fn              func(*instance, api.Module, []uint64) int32
	params, results []api.ValueType
}

var (
	i32, i64 = api.ValueTypeI32, api.ValueTypeI64
	netFuncs = []netFunc{
		{wasmbinding.NetConnect, (*instance).netConnect, []api.ValueType{i32, i32, i64}, []api.ValueType{i32}},
		{wasmbinding.NetRead, (*instance).netRead, []api.ValueType{i32, i32, i32, i64}, []api.ValueType{i32}},
		{wasmbinding.NetWrite, (*instance).netWrite, []api.ValueType{i32, i32, i32, i64}, []api.ValueType{i32}},
		{wasmbinding.NetClose, (*instance).netClose, []api.ValueType{i32}, []api.ValueType{i32}},
		{wasmbinding.NetLastError, (*instance).netLastError, []api.ValueType{i32, i32}, []api.ValueType{i32}},
	}
)

// instantiateNet adds the host module of the network functions to rt.
func instantiateNet(ctx context.Context, rt wazero.Runtime) error {
	b := rt.NewHostModuleBuilder(wasmbinding.ImportNet)
	for _, f := range netFuncs {
		fn := f.fn
		b = b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
			inst, ok := ctx.Value(instanceKey{}).(*instance)
			if !ok {
				stack[0] = api.EncodeI32(wasmbinding.NetErrInvalid)
				return
			}
			stack[0] = api.EncodeI32(fn(inst, mod, stack))
		}), f.params, f.results).Export(f.name)
	}
	_, err := b.Instantiate(ctx)
	return err
}

// maxEndpointLen is the longest endpoint string connect reads from the guest.
const maxEndpointLen = 1024

// maxLoggedRefusals is how many refused connects of one instance are logged.
const maxLoggedRefusals = 8

// netState is an instance's connections.
type netState struct {
	mu       sync.Mutex // guards conns and closed: the watchdog reaches them from its goroutine
	conns    map[int32]net.Conn
	closed   bool
	next     int32  // the last handle given
	buf      []byte // NetMaxIO bytes, for copies between a connection and guest memory
	lastErr  string
	refusals int // connects refused
	limitHit bool
}

// interrupt makes every read and write blocked on a connection return at once: the watchdog
// calls it when the call's deadline passes, after it has marked the instance expired.
func (ns *netState) interrupt() {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	for _, c := range ns.conns {
		c.SetDeadline(time.Unix(1, 0))
	}
}

// closeAll closes every connection; later connects fail.
func (ns *netState) closeAll() {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	ns.closed = true
	for h, c := range ns.conns {
		c.Close()
		delete(ns.conns, h)
	}
}

func (ns *netState) conn(h int32) net.Conn {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return ns.conns[h]
}

// netFail records err as the last error and returns code.
func (inst *instance) netFail(code int32, format string, args ...any) int32 {
	inst.net.lastErr = fmt.Sprintf(format, args...)
	return code
}

// checkExpired traps the guest if its call's deadline has passed, as yield would: a network
// function that was interrupted by the watchdog returns no answer.
func (inst *instance) checkExpired() {
	if inst.expired.Load() {
		panic(errExpired)
	}
}

// netConnect is connect(addr_ptr, addr_len, timeout_ns) -> handle.
func (inst *instance) netConnect(mod api.Module, stack []uint64) int32 {
	ptr, n, timeout := api.DecodeU32(stack[0]), api.DecodeU32(stack[1]), int64(stack[2])
	if n > maxEndpointLen {
		return inst.netFail(wasmbinding.NetErrInvalid, "endpoint of %d bytes: at most %d", n, maxEndpointLen)
	}
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		return inst.netFail(wasmbinding.NetErrInvalid, "endpoint [%d,%d) lies outside the guest's memory", ptr, uint64(ptr)+uint64(n))
	}
	ep := string(b)
	cfg := &inst.t.m.cfg
	if !slices.Contains(cfg.connect, ep) {
		inst.net.refusals++
		if inst.net.refusals <= maxLoggedRefusals {
			attrs := []any{"module", inst.t.name, "endpoint", ep, "allowed", cfg.connect}
			if inst.net.refusals == maxLoggedRefusals {
				attrs = append(attrs, "note", "further refusals of this instance are not logged")
			}
			cfg.logger.Warn("wasm guest's connect refused: the endpoint is not in its sandbox's connect list", attrs...)
		}
		return inst.netFail(wasmbinding.NetErrNotAllowed, "endpoint %q is not allowed (the sandbox allows %s)", ep, allowedList(cfg.connect))
	}
	ns := &inst.net
	ns.mu.Lock()
	switch {
	case ns.closed:
		ns.mu.Unlock()
		return inst.netFail(wasmbinding.NetErrIO, "the instance is closed")
	case len(ns.conns) >= cfg.maxConns:
		first := !ns.limitHit
		ns.limitHit = true
		ns.mu.Unlock()
		if first {
			cfg.logger.Warn("wasm guest reached its limit of connections; further connects fail", "module", inst.t.name, "limit", cfg.maxConns)
		}
		return inst.netFail(wasmbinding.NetErrLimit, "connect %s: %d connections open, the most one instance may have (WithMaxConnections)", ep, cfg.maxConns)
	}
	ns.mu.Unlock()

	ctx := inst.ctx // cancelled by the watchdog, and when the instance closes
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(timeout))
		defer cancel()
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", ep)
	inst.checkExpired()
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			return inst.netFail(wasmbinding.NetErrTimeout, "connect %s: %v", ep, err)
		}
		return inst.netFail(wasmbinding.NetErrConnect, "connect %s: %v", ep, err)
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.closed {
		c.Close()
		return inst.netFail(wasmbinding.NetErrIO, "the instance is closed")
	}
	if ns.conns == nil {
		ns.conns = make(map[int32]net.Conn)
	}
	for {
		if ns.next++; ns.next <= 0 {
			ns.next = 1
		}
		if _, used := ns.conns[ns.next]; !used {
			break
		}
	}
	ns.conns[ns.next] = c
	return ns.next
}

func allowedList(eps []string) string {
	if len(eps) == 0 {
		return "no endpoint"
	}
	return fmt.Sprintf("only %q", eps)
}

// deadline is the deadline of one read or write with the guest's timeout: none for 0.
func deadline(timeout int64) time.Time {
	if timeout <= 0 {
		return time.Time{}
	}
	return time.Now().Add(time.Duration(timeout))
}

// ioArgs decodes the arguments of read and write, and returns the connection and the length
// to move (at most NetMaxIO), or an error code.
func (inst *instance) ioArgs(op string, mod api.Module, stack []uint64) (c net.Conn, ptr, n uint32, code int32) {
	h, ptr, n := api.DecodeI32(stack[0]), api.DecodeU32(stack[1]), api.DecodeU32(stack[2])
	if c = inst.net.conn(h); c == nil {
		return nil, 0, 0, inst.netFail(wasmbinding.NetErrBadHandle, "%s: no open connection has handle %d", op, h)
	}
	if end := uint64(ptr) + uint64(n); end > memorySize(mod.Memory()) {
		return nil, 0, 0, inst.netFail(wasmbinding.NetErrInvalid, "%s: buffer [%d,%d) lies outside the guest's memory", op, ptr, end)
	}
	if inst.net.buf == nil {
		inst.net.buf = make([]byte, wasmbinding.NetMaxIO)
	}
	return c, ptr, min(n, wasmbinding.NetMaxIO), 0
}

// netRead is read(handle, buf_ptr, buf_len, timeout_ns) -> bytes read, 0 at the end.
func (inst *instance) netRead(mod api.Module, stack []uint64) int32 {
	c, ptr, n, code := inst.ioArgs("read", mod, stack)
	if c == nil {
		return code
	}
	if n == 0 {
		return 0
	}
	// The deadline is set before expired is read: a watchdog that fires after this read
	// finds the new deadline to cut short; one that fired before is seen here.
	c.SetReadDeadline(deadline(int64(stack[3])))
	inst.checkExpired()
	got, err := c.Read(inst.net.buf[:n])
	inst.checkExpired()
	if got > 0 {
		mod.Memory().Write(ptr, inst.net.buf[:got])
		return int32(got)
	}
	switch {
	case err == nil:
		return 0 // a zero-length read: the guest asks again
	case errors.Is(err, io.EOF):
		return 0
	case isTimeout(err):
		return inst.netFail(wasmbinding.NetErrTimeout, "read: %v", err)
	}
	return inst.netFail(wasmbinding.NetErrIO, "read: %v", err)
}

// netWrite is write(handle, buf_ptr, buf_len, timeout_ns) -> bytes written.
func (inst *instance) netWrite(mod api.Module, stack []uint64) int32 {
	c, ptr, n, code := inst.ioArgs("write", mod, stack)
	if c == nil {
		return code
	}
	if n == 0 {
		return 0
	}
	// A copy, so that no system call holds a view of guest memory.
	b, _ := mod.Memory().Read(ptr, n)
	buf := inst.net.buf[:copy(inst.net.buf, b)]
	c.SetWriteDeadline(deadline(int64(stack[3])))
	inst.checkExpired()
	done, err := c.Write(buf)
	inst.checkExpired()
	switch {
	case done > 0 || err == nil:
		return int32(done)
	case isTimeout(err):
		return inst.netFail(wasmbinding.NetErrTimeout, "write: %v", err)
	}
	return inst.netFail(wasmbinding.NetErrIO, "write: %v", err)
}

// netClose is close(handle) -> 0.
func (inst *instance) netClose(_ api.Module, stack []uint64) int32 {
	h := api.DecodeI32(stack[0])
	ns := &inst.net
	ns.mu.Lock()
	c := ns.conns[h]
	delete(ns.conns, h)
	ns.mu.Unlock()
	if c == nil {
		return inst.netFail(wasmbinding.NetErrBadHandle, "close: no open connection has handle %d", h)
	}
	c.Close()
	return 0
}

// netLastError is last_error(buf_ptr, buf_len) -> the message's length.
func (inst *instance) netLastError(mod api.Module, stack []uint64) int32 {
	ptr, n := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	msg := inst.net.lastErr
	if len(msg) > maxLastError {
		msg = msg[:maxLastError]
	}
	if !mod.Memory().Write(ptr, []byte(msg[:min(len(msg), int(n))])) {
		return wasmbinding.NetErrInvalid
	}
	return int32(len(msg))
}

// maxLastError bounds the message last_error gives.
const maxLastError = 4096

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// netFuncNames lists the functions of the host module, for errors.
func netFuncNames() string {
	s := ""
	for i, f := range netFuncs {
		if i > 0 {
			s += ", "
		}
		s += f.name
	}
	return s
}
