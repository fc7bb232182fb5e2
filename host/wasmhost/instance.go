package wasmhost

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"github.com/dockyard/dockyard/internal/rootfs"
	"github.com/dockyard/dockyard/internal/wasmbinding"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/sys"
)

// instance is one live instantiation of the module, owned by a transport.
//
// Unless the module is trusted, every call into it (and its instantiation, which runs a start
// function) is watched by a watchdog timer, one per instance, armed for each call with the
// call timeout. When it fires, it marks the instance expired, so the instrumented guest traps
// at its next yield (see internal/instrument), cancels the instance's context, which ends a
// guest's sleep and a connect in progress, and cuts short a read or write on one of its
// connections (net.go). One context and one reusable timer per instance cost less per call than a
// context.WithTimeout per call.
type instance struct {
	mod            api.Module
	bufFn, callFn  api.Function
	ctx            context.Context
	cancel         context.CancelFunc
	watchdog       *time.Timer // nil when trusted
	timeout        time.Duration
	expired        atomic.Bool // set by the watchdog before it stops the guest
	memoryLimit    uint64
	sleepCancelled <-chan struct{} // ctx.Done(), for the guest's sleeps

	// The request buffer the guest's dockyard_buffer last returned: bufSize bytes at bufPtr,
	// valid until the next dockyard_buffer call (hasBuf is false before the first).
	bufPtr, bufSize uint32
	hasBuf          bool

	t   *transport // the owner, for the network's settings and logs
	net netState   // the guest's connections (net.go)
}

func (t *transport) instantiate() (*instance, error) {
	inst := &instance{t: t, timeout: t.m.cfg.callTimeout, memoryLimit: uint64(t.m.cfg.memoryPages()) * wasmPageSize}
	ctx, cancel := context.WithCancel(context.Background())
	inst.ctx, inst.cancel = context.WithValue(ctx, instanceKey{}, inst), cancel
	if !t.m.cfg.trusted {
		inst.watchdog = time.AfterFunc(time.Hour, func() {
			inst.expired.Store(true)
			inst.cancel()
			inst.net.interrupt()
		})
		inst.watchdog.Stop()
		inst.sleepCancelled = inst.ctx.Done()
	}
	cfg := wazero.NewModuleConfig().
		WithName("").         // anonymous: many instances of one module live side by side
		WithStartFunctions(). // _initialize is called below, on its own deadline
		WithStdout(t.stdout).
		WithStderr(t.stderr).
		WithSysWalltime().
		WithSysNanotime().
		WithNanosleep(inst.nanosleep).
		WithRandSource(rand.Reader).
		WithEnv(wasmbinding.MemoryLimitEnv, strconv.FormatUint(inst.memoryLimit, 10))
	if t.root != nil {
		fs := rootfs.New(t.root, t.m.cfg.logger, t.name, t.quota, t.m.cfg.maxOpen)
		cfg = cfg.WithFSConfig(wazero.NewFSConfig().(sysfs.FSConfig).WithSysFSMount(fs, wasmbinding.DataDir))
	}
	t.stderr.ResetLast()
	// Instantiation runs no guest code but a start function's, under the deadline like a call.
	phase := startFunction
	inst.arm()
	mod, err := t.m.rt.InstantiateModule(experimental.WithMemoryAllocator(inst.ctx, mmapMemory), t.m.compiled, cfg)
	fired := !inst.disarm()
	if err == nil {
		inst.mod = mod
		inst.bufFn = mod.ExportedFunction(wasmbinding.ExportBuffer)
		inst.callFn = mod.ExportedFunction(wasmbinding.ExportCall)
	}
	if err == nil && !fired {
		phase = wasmbinding.ExportInit
		inst.arm()
		err = mod.ExportedFunction(wasmbinding.ExportInit).CallWithStack(inst.ctx, nil)
		fired = !inst.disarm()
	}
	if err != nil {
		t.stdout.Flush()
		t.stderr.Flush()
		e := t.instanceError(inst, phase, err)
		inst.close()
		t.m.cfg.logger.Warn("wasm instantiation failed", "module", t.name, "reason", e.Reason, "err", err.Error())
		return nil, e
	}
	if fired {
		e := &InstanceError{Module: t.name, Kind: ErrDeadline,
			Reason: fmt.Sprintf("%s exceeded its %v deadline (WithCallTimeout)", phase, inst.timeout)}
		inst.close()
		return nil, e
	}
	return inst, nil
}

// arm starts the watchdog for one call.
func (inst *instance) arm() {
	if inst.watchdog != nil {
		inst.watchdog.Reset(inst.timeout)
	}
}

// disarm stops the watchdog after a call; false means it fired (or is firing): the instance
// is stopped and must not be called again. It then records the expiry itself, so that the
// instance counts as expired even before the watchdog's own store is visible.
func (inst *instance) disarm() bool {
	if inst.watchdog == nil || inst.watchdog.Stop() {
		return true
	}
	inst.expired.Store(true)
	return false
}

// nanosleep is the guest's sleep (poll_oneoff with a timeout): real time, cut short when the
// watchdog fires, so a sleeping guest cannot hold a call past its deadline.
func (inst *instance) nanosleep(ns int64) {
	if ns <= 0 {
		return
	}
	if inst.sleepCancelled == nil {
		time.Sleep(time.Duration(ns))
		return
	}
	timer := time.NewTimer(time.Duration(ns))
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-inst.sleepCancelled:
	}
}

// close closes the wazero module (if it was instantiated), stops the watchdog and closes the
// guest's connections.
func (inst *instance) close() error {
	if inst.watchdog != nil {
		inst.watchdog.Stop()
	}
	inst.cancel()
	inst.net.closeAll()
	if inst.mod != nil {
		return inst.mod.Close(context.Background())
	}
	return nil
}

// call runs one crossing: dockyard_buffer if the request does not fit the guest's buffer (or
// the instance is fresh, or a small request follows a large one), the request written into
// the buffer, dockyard_call, and a checked copy of the response. Usually that is one call into
// the guest.
func (t *transport) call(req []byte) ([]byte, error) {
	inst := t.inst
	t.stderr.ResetLast()
	mem := inst.mod.Memory()
	stack := t.stack[:]
	n := uint32(len(req))

	if !inst.hasBuf || n > inst.bufSize || (inst.bufSize > keepRequestBuffer && n <= keepRequestBuffer/4) {
		size := max(n, minRequestBuffer)
		stack[0] = api.EncodeU32(size)
		inst.arm()
		err := inst.bufFn.CallWithStack(inst.ctx, stack)
		if !inst.disarm() && err == nil {
			err = errExpired
		}
		if err != nil {
			return nil, t.fail(wasmbinding.ExportBuffer, err)
		}
		ptr, memSize := api.DecodeU32(stack[0]), memorySize(mem)
		if end := uint64(ptr) + uint64(size); end > uint64(memSize) {
			return nil, t.broken(fmt.Sprintf("guest's %s(%d) returned buffer [%d,%d) past its %d-byte memory",
				wasmbinding.ExportBuffer, size, ptr, end, memSize))
		}
		inst.bufPtr, inst.bufSize, inst.hasBuf = ptr, size, true
		t.bufferCalls++
	}
	// Checked on every call, although a memory never shrinks: the pointer is the guest's word.
	if end, memSize := uint64(inst.bufPtr)+uint64(n), memorySize(mem); end > memSize || !mem.Write(inst.bufPtr, req) {
		return nil, t.broken(fmt.Sprintf("guest's request buffer [%d,%d) lies past its %d-byte memory",
			inst.bufPtr, end, memSize))
	}

	stack[0] = api.EncodeU32(n)
	inst.arm()
	err := inst.callFn.CallWithStack(inst.ctx, stack)
	expired := !inst.disarm()
	if err != nil {
		return nil, t.fail(wasmbinding.ExportCall, err)
	}
	rptr, rlen := uint32(stack[0]>>32), uint32(stack[0])
	if uint64(rlen) > uint64(t.m.cfg.maxResponse) {
		return nil, t.broken(fmt.Sprintf("guest returned a %d-byte response, over the %d-byte limit (WithMaxResponse)",
			rlen, t.m.cfg.maxResponse))
	}
	size := memorySize(mem)
	if end := uint64(rptr) + uint64(rlen); end > uint64(size) {
		return nil, t.broken(fmt.Sprintf("guest returned response [%d,%d) past its %d-byte memory", rptr, end, size))
	}
	b, _ := mem.Read(rptr, rlen)
	resp := append(make([]byte, 0, len(b)), b...)
	if expired {
		// The watchdog fired just as the call returned: the answer is whole, but the instance
		// is expired, so the next call needs a fresh instance.
		t.discard(&InstanceError{Module: t.name, Kind: ErrDeadline,
			Reason: fmt.Sprintf("%s reached its %v deadline as it returned", wasmbinding.ExportCall, inst.timeout)})
	}
	return resp, nil
}

// memorySize is the size of mem in bytes. wazero's Size is a uint32, which a memory of the
// largest size, 4 GiB, wraps to 0.
func memorySize(mem api.Memory) uint64 {
	if size := mem.Size(); size != 0 {
		return uint64(size)
	}
	if pages, ok := mem.Grow(0); ok {
		return uint64(pages) * wasmPageSize
	}
	return 0
}

// Sizes of the request buffer the host asks the guest for. It asks for at least
// minRequestBuffer bytes, so that most requests fit the first buffer; after a request over
// keepRequestBuffer, the next one of at most a quarter of that asks again, so that the guest
// may release the large buffer.
const (
	minRequestBuffer  = 16 << 10
	keepRequestBuffer = 1 << 20
)

// errExpired stands for a call that returned normally after its watchdog fired, and is what
// yield panics with to trap a guest past its deadline.
var errExpired = errors.New("watchdog fired")

// startFunction names the instantiation, which runs the module's start function if it has one,
// in errors.
const startFunction = "the start function"

// instanceKey is the key of the instance in the context of every call into it.
type instanceKey struct{}

// yield is the host function instrumented code calls every FuelInterval checks
// (internal/instrument). Entering Go is its main job: it lets a garbage collection stop the guest's
// goroutine. It traps the guest (a panic in a host function is a trap to wazero) once the
// instance's watchdog has fired.
func yield(ctx context.Context, _ api.Module, _ []uint64) {
	if inst, ok := ctx.Value(instanceKey{}).(*instance); ok && inst.expired.Load() {
		panic(errExpired)
	}
}

// broken discards the instance for an answer that breaks the binding.
func (t *transport) broken(reason string) error {
	e := &InstanceError{Module: t.name, Reason: reason, Kind: ErrBadResponse}
	t.discard(e)
	return e
}

// fail discards the instance after export returned err, and says why.
func (t *transport) fail(export string, err error) error {
	e := t.instanceError(t.inst, export, err)
	t.discard(e)
	return e
}

// instanceError describes a failure of inst in export (startFunction: in instantiation).
func (t *transport) instanceError(inst *instance, export string, err error) *InstanceError {
	e := &InstanceError{Module: t.name, Err: err}
	var exit *sys.ExitError
	switch {
	case inst.expired.Load():
		e.Reason = fmt.Sprintf("%s exceeded its %v deadline (WithCallTimeout)", export, inst.timeout)
		e.Kind, e.Err = ErrDeadline, nil
	case errors.As(err, &exit):
		e.Reason = fmt.Sprintf("guest exited with code %d in %s", exit.ExitCode(), export)
		if t.m.closed.Load() {
			e.Reason += " (the module was closed)"
		}
	case export == startFunction, export == wasmbinding.ExportInit:
		e.Reason = "instantiate: " + export + ": " + firstLine(err.Error())
	default:
		e.Reason = fmt.Sprintf("guest trapped in %s: %s", export, firstLine(err.Error()))
	}
	if e.Kind == nil {
		e.Reason += t.memoryNote(inst, &e.Kind)
		if last := t.stderr.Last(); last != "" {
			e.Reason += fmt.Sprintf("; guest stderr: %q", last)
		}
	}
	return e
}

// memoryNote reports how much memory the dead guest had, and sets *kind to ErrMemoryLimit when
// it had run into its limit (within one eighth of it, or it said "out of memory").
func (t *transport) memoryNote(inst *instance, kind *error) string {
	var size uint64
	if inst.mod != nil && inst.mod.Memory() != nil {
		size = memorySize(inst.mod.Memory())
	}
	if size+inst.memoryLimit/8 >= inst.memoryLimit || strings.Contains(t.stderr.Last(), "out of memory") {
		*kind = ErrMemoryLimit
		return fmt.Sprintf(" (out of memory: %d of its %d-byte limit in use, WithMemoryLimit)", size, inst.memoryLimit)
	}
	return ""
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// discard closes the live instance after a failure and logs why, with the runtime's full
// error (a trap's wasm stack trace).
func (t *transport) discard(e *InstanceError) {
	t.stdout.Flush()
	t.stderr.Flush()
	attrs := []any{"module", t.name, "reason", e.Reason}
	if e.Err != nil {
		attrs = append(attrs, "err", e.Err.Error())
	}
	t.m.cfg.logger.Warn("wasm instance discarded", attrs...)
	if t.inst != nil {
		t.inst.close()
		t.inst = nil
	}
}
