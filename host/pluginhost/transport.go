//go:build unix

package pluginhost

import (
	"context"
	binenc "encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/dockyard/dockyard/internal/pluginbinding"
	"github.com/dockyard/dockyard/pdk/abi"
)

// transport is the abi.RoundTripper over a plugin process. It starts the process on first use
// and again on the first use after one was lost; the ABI client sends HELLO to each new one.
// The ABI client makes one crossing at a time, so RoundTrip is never concurrent; mu guards
// the process against Close.
type transport struct {
	path    string
	sum     []byte
	cfg     config
	sandbox *sandbox

	mu     sync.Mutex
	p      *process // nil until started, and after a loss
	closed bool
	starts int
	loop   crashLoop
	logs   *logLimit
	timer  *time.Timer // the call timeout: fires timeout
	req    wrapperspb.BytesValue
	seq    uint64 // of the last request, across processes

	calling atomic.Pointer[process] // the process of the call in flight
}

func (t *transport) logLevel() string {
	for _, l := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn} {
		if t.cfg.logger.Enabled(context.Background(), l) {
			return l.String()
		}
	}
	return slog.LevelError.String()
}

// live returns the running process, starting one if there is none.
func (t *transport) live(ctx context.Context) (*process, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, fmt.Errorf("plugin %q: transport closed", t.cfg.name)
	}
	if t.p != nil {
		return t.p, nil
	}
	if err := t.loop.wait(t.cfg.name); err != nil {
		return nil, err
	}
	p, err := t.start(ctx)
	if err != nil {
		t.loop.crashed(time.Now(), err)
		return nil, err
	}
	t.p = p
	t.starts++
	if t.starts > 1 {
		t.cfg.logger.Info("plugin process restarted", "plugin", t.cfg.name, "pid", p.pid, "starts", t.starts)
	}
	return p, nil
}

// RoundTrip sends one request frame and waits for its response, the process's death, ctx or
// the call timeout, whichever comes first. Every failure after the request may have reached
// the plugin kills the process and wraps abi.ErrBroken, as the RoundTripper contract requires.
//
// The answer is received on the calling goroutine (a goroutine handing answers over would
// cost two scheduler switches per crossing); ctx and the call timeout interrupt it by killing
// the process, which breaks the stream.
func (t *transport) RoundTrip(ctx context.Context, req []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := t.live(ctx)
	if err != nil {
		return nil, err // no process saw the request
	}
	if p.gone() {
		return nil, t.lose(p, fmt.Errorf("%w (%w)", t.died(p, "before the call"), abi.ErrNotDelivered))
	}
	t.calling.Store(p)
	if t.timer == nil {
		t.timer = time.AfterFunc(t.cfg.callTimeout, t.timeout)
	} else {
		t.timer.Reset(t.cfg.callTimeout)
	}
	stop := context.AfterFunc(ctx, func() { p.abandoned.Store(true); p.kill() })
	t.seq++
	// The request ends with its sequence number (pdk/pluginbinding.SeqSize), appended in req's spare
	// capacity when it has some: req is ours until we return, and the bytes past its length
	// are nobody's.
	t.req.Value = binenc.LittleEndian.AppendUint64(req, t.seq)
	err = p.stream.SendMsg(&t.req) // encodes req before it returns
	t.req.Value = nil
	var resp wrapperspb.BytesValue
	if err == nil {
		err = p.stream.RecvMsg(&resp)
	}
	timerStopped, ctxStopped := t.timer.Stop(), stop()
	t.calling.Store(nil)
	switch {
	case !ctxStopped || p.abandoned.Load():
		return nil, t.lose(p, fmt.Errorf("plugin %q (pid %d): call abandoned, the plugin was stopped: %w", t.cfg.name, p.pid, context.Cause(ctx)))
	case !timerStopped || p.timedOut.Load():
		return nil, t.lose(p, fmt.Errorf("plugin %q (pid %d): no answer within the call timeout of %v: the plugin was stopped", t.cfg.name, p.pid, t.cfg.callTimeout))
	case err != nil:
		p.err = err
		return nil, t.lose(p, t.died(p, "during the call"))
	}
	n := len(resp.Value) - pluginbinding.SeqSize
	if n < 0 {
		return nil, t.lose(p, fmt.Errorf("plugin %q (pid %d): an answer of %d bytes has no sequence number", t.cfg.name, p.pid, len(resp.Value)))
	}
	if got := binenc.LittleEndian.Uint64(resp.Value[n:]); got != t.seq {
		return nil, t.lose(p, fmt.Errorf("plugin %q (pid %d): request %d was answered with the answer to request %d: the plugin is out of step with its requests (it sent an answer too many, or too few)",
			t.cfg.name, p.pid, t.seq, got))
	}
	p.served.Add(1)
	return resp.Value[:n], nil
}

// timeout kills the process of the call in flight when the call timeout fires.
func (t *transport) timeout() {
	if p := t.calling.Load(); p != nil {
		p.timedOut.Store(true)
		p.kill()
	}
}

// died describes the loss of p's stream.
func (t *transport) died(p *process, when string) error {
	if p.exited(200 * time.Millisecond) {
		return fmt.Errorf("plugin %q (pid %d): the plugin process died %s", t.cfg.name, p.pid, when)
	}
	return fmt.Errorf("plugin %q (pid %d): the connection to the plugin broke %s: %v", t.cfg.name, p.pid, when, p.err)
}

// lose kills p and forgets it, so the next call starts a new process, and returns cause
// wrapping abi.ErrBroken.
func (t *transport) lose(p *process, cause error) error {
	p.kill()
	t.mu.Lock()
	if t.p == p {
		t.p = nil
		switch {
		case p.abandoned.Load(): // the application's doing, not the plugin's
		case p.served.Load() <= 1 && time.Since(p.started) < crashWindow:
			t.loop.crashed(time.Now(), cause)
		default:
			t.loop = crashLoop{}
		}
	}
	t.mu.Unlock()
	t.cfg.logger.Warn("plugin process lost", "plugin", t.cfg.name, "pid", p.pid, "error", cause)
	return fmt.Errorf("%w: %w", cause, abi.ErrBroken)
}

// Discard kills the running process at the client's word (abi.Discarder): after a malformed
// answer, which may mean the process has fallen out of step with its requests, so that every
// later answer would belong to an earlier request. The next call starts a new one.
func (t *transport) Discard(cause error) {
	t.mu.Lock()
	p := t.p
	t.mu.Unlock()
	if p != nil {
		_ = t.lose(p, fmt.Errorf("plugin %q (pid %d) discarded: %w", t.cfg.name, p.pid, cause))
	}
}

var _ abi.Discarder = (*transport)(nil)

// close stops the running process, if any; later calls fail.
func (t *transport) close() error {
	t.mu.Lock()
	p := t.p
	t.p, t.closed = nil, true
	t.mu.Unlock()
	if p != nil {
		p.stop()
	}
	return nil
}

// pid returns the running process's id, or 0.
func (t *transport) pid() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.p == nil {
		return 0
	}
	return t.p.pid
}

var _ abi.RoundTripper = (*transport)(nil)

var errNotExecutable = errors.New("not executable")

// Restart backoff. A plugin that fails to start, or is lost (crashed, killed for a timeout)
// within crashWindow of its start having answered at most one call (its HELLO), crashLimit
// times in a row, is not started again at once: a retrying application would otherwise
// restart it as fast as it can fail (9 starts a second were seen). Each further loss doubles
// the pause, from minBackoff up to maxBackoff; a call in the pause fails at once, having
// reached no plugin, with an error wrapping ErrCrashLoop that says why. A process that
// serves calls ends the loop.
const (
	crashWindow = 10 * time.Second
	crashLimit  = 3
	minBackoff  = 250 * time.Millisecond
	maxBackoff  = 30 * time.Second
)

// ErrCrashLoop is wrapped by the error of a call made while a plugin that keeps failing right
// after it starts is held back from restarting.
var ErrCrashLoop = errors.New("plugin held back from restarting: it keeps failing right after it starts")

// crashLoop counts a plugin's consecutive early losses.
type crashLoop struct {
	n     int
	last  time.Time
	cause error
}

func (c *crashLoop) crashed(now time.Time, cause error) { c.n, c.last, c.cause = c.n+1, now, cause }

// wait returns an error wrapping ErrCrashLoop if a start now would come too soon.
func (c *crashLoop) wait(name string) error {
	if c.n < crashLimit {
		return nil
	}
	pause := min(maxBackoff, minBackoff<<min(c.n-crashLimit, 16))
	if left := time.Until(c.last.Add(pause)); left > 0 {
		return fmt.Errorf("%w: plugin %q was lost %d times in a row, each within %v of its start; next start in %v; last: %w",
			ErrCrashLoop, name, c.n, crashWindow, left.Round(time.Millisecond), c.cause)
	}
	return nil
}
