//go:build unix

package pluginhost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/dockyard/dockyard/internal/pluginbinding"
)

// process is one running plugin and its Frames stream.
type process struct {
	client  *goplugin.Client
	stream  grpc.ClientStream
	cancel  context.CancelFunc
	pid     int
	started time.Time
	served  atomic.Int64 // calls answered

	err  error // why the stream broke
	once sync.Once

	abandoned, timedOut atomic.Bool // why a call killed it
}

// start execs the binary and completes go-plugin's handshake, mutual TLS and the gRPC
// connection, and opens the Frames stream, all within the start timeout.
func (t *transport) start(ctx context.Context) (*process, error) {
	exe, sealed, release, err := sealedCopy(t.path, t.sum)
	if err != nil {
		return nil, fmt.Errorf("%w: plugin %q (%s): %w", ErrStart, t.cfg.name, t.path, err)
	}
	defer release() // once the process has started from it, or failed to
	prog := program{exe: exe, args: []string{t.path}}
	if t.cfg.interpreter != "" {
		prog = interpreted(t.cfg.interpreter, t.path, sealed)
	}
	env := append(pluginEnv(), t.cfg.env...)
	env = append(env, pluginbinding.LevelEnv+"="+t.logLevel())
	var run atomic.Pointer[procRunner]
	stderr := &tail{max: 2048}
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  pluginbinding.Handshake,
		Plugins:          goplugin.PluginSet{pluginbinding.PluginName: &pluginbinding.GRPCPlugin{}},
		RunnerFunc:       newRunner(prog, t.path, env, t.sandbox, run.Store),
		SkipHostEnv:      true,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         !t.cfg.noMTLS,
		StartTimeout:     t.cfg.startTimeout,
		Logger:           newHCLogger(t.cfg.logger.With("plugin", t.cfg.name), "", t.logs),
		Stderr:           stderr,
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(pluginbinding.MaxAnswer), grpc.MaxCallSendMsgSize(pluginbinding.MaxMessage))},
	})
	type started struct {
		p   *process
		err error
	}
	// go-plugin bounds its handshake by the start timeout, but not what follows: gRPC sets up
	// the connection lazily, and a plugin that accepts the socket and never speaks would hold
	// the first call for gRPC's own 20 s connect timeout. At the deadline the process is
	// killed, which ends every wait on it.
	var expired atomic.Bool
	timer := time.AfterFunc(t.cfg.startTimeout, func() {
		expired.Store(true)
		if r := run.Load(); r != nil {
			_ = r.Kill(context.Background())
		}
	})
	defer timer.Stop()
	ch := make(chan started, 1)
	go func() {
		p, err := connect(client, func() int { return run.Load().PID() })
		ch <- started{p, err}
	}()
	select {
	case s := <-ch:
		if s.err == nil && expired.Load() {
			s.p.kill()
			s.err = errStartTimeout
		}
		if s.err != nil {
			abort(client, run.Load())
			if r := run.Load(); expired.Load() && r != nil { // the kill at the deadline broke what the error says
				s.err = errHandshakeTimeout
				if r.handshook.Load() {
					s.err = errStartTimeout
				}
			}
			return nil, t.startError(s.err, stderr.String())
		}
		return s.p, nil
	case <-ctx.Done():
		if r := run.Load(); r != nil {
			_ = r.Kill(context.Background()) // which ends connect
		}
		go func() { // then stop what it started
			if s := <-ch; s.p != nil {
				s.p.kill()
			} else {
				abort(client, run.Load())
			}
		}()
		return nil, fmt.Errorf("%w: plugin %q: %w", ErrStart, t.cfg.name, ctx.Err())
	}
}

// program is what a plugin process executes: exe with args (argv[0] first), and the files it
// inherits from descriptor 3 on.
type program struct {
	exe   string
	args  []string
	extra []*os.File
}

// interpreted is the program of an artifact run by an interpreter: the interpreter, given the
// sealed copy of the artifact as descriptor 3 and its path /proc/self/fd/3 as its argument,
// so that what it runs is what was hashed (with no sealed copy, elsewhere, the artifact's
// path). argv[0] is the interpreter, as a shell would give it.
func interpreted(interpreter, path string, sealed *os.File) program {
	if sealed == nil {
		return program{exe: interpreter, args: []string{interpreter, path}}
	}
	return program{exe: interpreter, args: []string{interpreter, "/proc/self/fd/3"}, extra: []*os.File{sealed}}
}

// abort ends a start that failed: the process first, since go-plugin's Kill tries a graceful
// shutdown over the connection, which a plugin that never spoke on it holds for 20 s.
func abort(client *goplugin.Client, run *procRunner) {
	if run != nil {
		_ = run.Kill(context.Background())
	}
	client.Kill()
}

// handshakeTimeout reports whether err is go-plugin's: no handshake line by the start timeout.
func handshakeTimeout(err error) bool {
	return strings.Contains(err.Error(), "timeout while waiting for plugin to start")
}

// What a start cut short by the start timeout failed with: before go-plugin's handshake line,
// or after it.
var (
	errHandshakeTimeout = errors.New("no handshake by the start timeout")
	errStartTimeout     = errors.New("no connection by the start timeout")
)

// passedEnv are the host's environment variables a plugin gets, if set: where temporary files
// go. Nothing else of the host's environment reaches it, since that is where applications keep
// their secrets (cloud credentials, database passwords); WithEnv gives a plugin what it needs.
var passedEnv = []string{"TMPDIR"}

// pluginEnv returns the part of the host's environment a plugin starts with.
func pluginEnv() []string {
	var env []string
	for _, k := range passedEnv {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// connect completes the start: go-plugin's handshake, the connection (mutual TLS, HTTP/2) and
// the Frames stream.
func connect(client *goplugin.Client, pid func() int) (*process, error) {
	rpc, err := client.Client()
	if err != nil {
		return nil, err
	}
	raw, err := rpc.Dispense(pluginbinding.PluginName)
	if err != nil {
		return nil, err
	}
	conn, ok := raw.(*grpc.ClientConn)
	if !ok {
		return nil, fmt.Errorf("go-plugin dispensed %T, not a gRPC connection", raw)
	}
	sctx, cancel := context.WithCancel(context.Background())
	stream, err := conn.NewStream(sctx, &pluginbinding.FramesDesc, pluginbinding.FramesMethod)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("opening the Frames stream: %w", err)
	}
	return &process{client: client, stream: stream, cancel: cancel, pid: pid(), started: time.Now()}, nil
}

// startError explains why a plugin did not start, from go-plugin's error and the end of what
// the process wrote to stderr.
func (t *transport) startError(err error, stderr string) error {
	name := fmt.Sprintf("plugin %q (%s)", t.cfg.name, t.path)
	hs := pluginbinding.Handshake
	switch {
	case strings.Contains(stderr, "This binary is a plugin"):
		return fmt.Errorf("%w: %w: %s refused go-plugin's magic cookie: the host offers %s=%s (plugin protocol %d); the binary is a go-plugin plugin of another application or another Dockyard handshake",
			ErrStart, ErrHandshake, name, hs.MagicCookieKey, hs.MagicCookieValue, hs.ProtocolVersion)
	case strings.Contains(strings.ToLower(err.Error()), "incompatible"):
		return fmt.Errorf("%w: %w: %s: the host speaks Dockyard plugin protocol %d: %w", ErrStart, ErrHandshake, name, hs.ProtocolVersion, err)
	case errors.Is(err, errStartTimeout):
		return fmt.Errorf("%w: %s completed go-plugin's handshake but not TLS and the gRPC connection within the start timeout of %v%s", ErrStart, name, t.cfg.startTimeout, stderrNote(stderr))
	case errors.Is(err, errHandshakeTimeout), handshakeTimeout(err):
		return fmt.Errorf("%w: %s did not complete go-plugin's handshake within %v (is it a Dockyard plugin?)%s", ErrStart, name, t.cfg.startTimeout, stderrNote(stderr))
	case strings.Contains(err.Error(), "exited before we could connect"), strings.Contains(err.Error(), "Failed to read any lines from plugin's stdout"):
		return fmt.Errorf("%w: %s exited before completing go-plugin's handshake%s", ErrStart, name, stderrNote(stderr))
	}
	return fmt.Errorf("%w: %s: %w%s", ErrStart, name, err, stderrNote(stderr))
}

func stderrNote(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	return "; its stderr ends: " + s
}

// kill ends the process at once (SIGKILL: its driver may be stuck), with every process it
// started, and waits until go-plugin has reaped it.
func (p *process) kill() {
	p.once.Do(func() {
		p.cancel()
		if p.pid > 0 {
			killGroup(p.pid)
		}
		p.client.Kill()
	})
}

// stopTimeout bounds a graceful stop: a plugin that blocks go-plugin's Shutdown call, or does
// not exit, is killed then.
const stopTimeout = 5 * time.Second

// stop ends the process gracefully, as go-plugin does (the ABI session was closed first), and
// kills it if it does not exit within stopTimeout. Processes the plugin started are killed as
// soon as it has exited: one of them holding the plugin's output pipes would keep go-plugin
// waiting, one holding a database's lock would keep every later writer out.
func (p *process) stop() {
	p.once.Do(func() {
		_ = p.stream.CloseSend()
		done := make(chan struct{})
		go func() {
			p.client.Kill()
			close(done)
		}()
		deadline := time.Now().Add(stopTimeout)
		tick := time.NewTicker(10 * time.Millisecond)
		for waiting := true; waiting; {
			select {
			case <-done:
				waiting = false
			case now := <-tick.C:
				if p.pid > 0 && (p.client.Exited() || now.After(deadline)) {
					killGroup(p.pid)
				}
			}
		}
		tick.Stop()
		if p.pid > 0 {
			killGroup(p.pid) // what is left of the plugin's children
		}
		p.cancel()
	})
}

// gone reports whether p is known to be lost already: go-plugin has reaped its process.
func (p *process) gone() bool { return p.client.Exited() }

// exited reports, waiting up to wait, whether the process has exited.
func (p *process) exited(wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for !p.client.Exited() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (w *tail) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = w.buf[over:]
	}
	return len(p), nil
}

func (w *tail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(bytes.ToValidUTF8(w.buf, []byte("?")))
}
