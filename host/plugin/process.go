package plugin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pdkplugin "github.com/dockyard/dockyard/pdk/plugin"
)

// process is one running plugin and its Frames stream.
type process struct {
	client *goplugin.Client
	stream grpc.ClientStream
	cancel context.CancelFunc
	pid    int

	err  error // why the stream broke
	once sync.Once

	abandoned, timedOut atomic.Bool // why a call killed it

	// ended is closed once the process has been stopped or killed: it releases the thread that
	// started it (see start).
	ended chan struct{}
}

// start execs the binary and completes go-plugin's handshake, mutual TLS and the gRPC
// connection, and opens the Frames stream, all within the start timeout.
func (t *transport) start(ctx context.Context) (*process, error) {
	exe, verified, release, err := sealedCopy(t.path, t.sum)
	if err != nil {
		return nil, fmt.Errorf("%w: plugin %q (%s): %w", ErrStart, t.cfg.name, t.path, err)
	}
	cmd := exec.Command(exe)
	cmd.Args[0] = t.path
	cmd.Env = append(pluginEnv(), t.cfg.env...)
	cmd.Env = append(cmd.Env, pdkplugin.LevelEnv+"="+t.logLevel())
	cmd.SysProcAttr = sysProcAttr()
	var secure *goplugin.SecureConfig // go-plugin's check by path, where no sealed copy was
	if !verified {
		secure = &goplugin.SecureConfig{Checksum: t.sum, Hash: sha256.New()}
	}
	stderr := &tail{max: 2048}
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  pdkplugin.Handshake,
		Plugins:          goplugin.PluginSet{pdkplugin.PluginName: &pdkplugin.GRPCPlugin{}},
		Cmd:              cmd,
		SkipHostEnv:      true, // cmd.Env has it already
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         !t.cfg.noMTLS,
		SecureConfig:     secure,
		StartTimeout:     t.cfg.startTimeout,
		Logger:           newHCLogger(t.cfg.logger.With("plugin", t.cfg.name), ""),
		Stderr:           stderr,
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(pdkplugin.MaxMessage), grpc.MaxCallSendMsgSize(pdkplugin.MaxMessage))},
	})
	type started struct {
		p   *process
		err error
	}
	ch := make(chan started, 1)
	go func() {
		// The parent-death signal (sys_linux.go) is sent when the thread that forked the child
		// ends, not the process (go.dev/issue/27505), and Go ends a thread whenever a goroutine
		// locked to it returns: any goroutine of the application that calls LockOSThread and
		// returns would kill a plugin forked from its thread. So the fork happens (in
		// client.Client, which starts the command) on a thread this goroutine keeps to itself
		// until the process has ended; then the thread ends with it. One thread per plugin.
		runtime.LockOSThread() // never unlocked
		p, err := connect(client)
		release() // the process has started from the sealed copy, or failed to
		ch <- started{p, err}
		if err == nil {
			<-p.ended
		}
	}()
	select {
	case s := <-ch:
		if s.err != nil {
			client.Kill()
			return nil, t.startError(s.err, stderr.String())
		}
		return s.p, nil
	case <-ctx.Done():
		go func() { // connect ends within the start timeout; then stop what it started
			if s := <-ch; s.p != nil {
				s.p.kill()
			} else {
				client.Kill()
			}
		}()
		return nil, fmt.Errorf("%w: plugin %q: %w", ErrStart, t.cfg.name, ctx.Err())
	}
}

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

func connect(client *goplugin.Client) (*process, error) {
	rpc, err := client.Client()
	if err != nil {
		return nil, err
	}
	raw, err := rpc.Dispense(pdkplugin.PluginName)
	if err != nil {
		return nil, err
	}
	conn, ok := raw.(*grpc.ClientConn)
	if !ok {
		return nil, fmt.Errorf("go-plugin dispensed %T, not a gRPC connection", raw)
	}
	sctx, cancel := context.WithCancel(context.Background())
	stream, err := conn.NewStream(sctx, &pdkplugin.FramesDesc, pdkplugin.FramesMethod)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("opening the Frames stream: %w", err)
	}
	p := &process{client: client, stream: stream, cancel: cancel, ended: make(chan struct{})}
	if rc := client.ReattachConfig(); rc != nil {
		p.pid = rc.Pid
	}
	return p, nil
}

// startError explains why a plugin did not start, from go-plugin's error and the end of what
// the process wrote to stderr.
func (t *transport) startError(err error, stderr string) error {
	name := fmt.Sprintf("plugin %q (%s)", t.cfg.name, t.path)
	hs := pdkplugin.Handshake
	switch {
	case errors.Is(err, goplugin.ErrChecksumsDoNotMatch):
		actual := "unreadable"
		if b, rerr := os.ReadFile(t.path); rerr == nil {
			actual = fmt.Sprintf("%x", sha256.Sum256(b))
		}
		return fmt.Errorf("%w: %w: %s: the binary's sha256 is %s, pinned %x", ErrStart, ErrChecksum, name, actual, t.sum)
	case strings.Contains(stderr, "This binary is a plugin"):
		return fmt.Errorf("%w: %w: %s refused go-plugin's magic cookie: the host offers %s=%s (plugin protocol %d); the binary is a go-plugin plugin of another application or another Dockyard handshake",
			ErrStart, ErrHandshake, name, hs.MagicCookieKey, hs.MagicCookieValue, hs.ProtocolVersion)
	case strings.Contains(strings.ToLower(err.Error()), "incompatible"):
		return fmt.Errorf("%w: %w: %s: the host speaks Dockyard plugin protocol %d: %w", ErrStart, ErrHandshake, name, hs.ProtocolVersion, err)
	case strings.Contains(err.Error(), "timeout while waiting for plugin to start"):
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
		close(p.ended)
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
		close(p.ended)
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
