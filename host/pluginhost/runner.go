//go:build unix

package pluginhost

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin/runner"
)

// procRunner starts and waits for a plugin process for go-plugin (ClientConfig.RunnerFunc), in
// place of go-plugin's own runner, which hands the plugin the host's stdin and leaves no room
// to confine the child before it runs.
//
// The process is forked from an OS thread of its own (see onOwnThread), which first confines
// itself (sandbox.apply: the confinement Linux applies per thread, which the child inherits),
// then forks, then waits for the child and ends with it. Three things depend on that thread:
// the confinement stays off every other thread of the host; the parent-death signal is sent
// when the thread that forked the child ends (go.dev/issue/27505), which is now exactly when
// the host dies; and the moment the plugin exits, what it started is killed with it.
type procRunner struct {
	cmd     *exec.Cmd
	name    string // the binary's path, for go-plugin's messages
	sandbox *sandbox

	stdout, stderr *os.File // the read ends of the plugin's output pipes
	pid            atomic.Int64
	killed         atomic.Bool   // Kill was called: a process started after is killed at once
	handshook      atomic.Bool   // go-plugin has read the plugin's handshake line
	exited         chan struct{} // closed once the process has been reaped
	waitErr        error
	closeOnce      sync.Once

	runner.AddrTranslator
}

// newRunner returns go-plugin's RunnerFunc for a plugin: prog is what is executed (the sealed
// copy, or an interpreter given it), path the binary's name for messages, env what the plugin
// gets besides go-plugin's own variables. started receives the runner, so the caller learns
// the pid.
func newRunner(prog program, path string, env []string, sb *sandbox, started func(*procRunner)) func(hclog.Logger, *exec.Cmd, string) (runner.Runner, error) {
	return func(_ hclog.Logger, meta *exec.Cmd, socketDir string) (runner.Runner, error) {
		cmd := &exec.Cmd{Path: prog.exe, Args: prog.args, ExtraFiles: prog.extra, SysProcAttr: sysProcAttr()}
		// go-plugin's handshake variables and the socket directory come in meta.Env; the host's
		// environment does not (SkipHostEnv).
		cmd.Env = append(append([]string(nil), env...), meta.Env...)
		r := &procRunner{cmd: cmd, name: path, sandbox: sb.withSocketDir(socketDir), exited: make(chan struct{}),
			AddrTranslator: identity{}}
		started(r)
		return r, nil
	}
}

func (r *procRunner) Start(ctx context.Context) error {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer devnull.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		return err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return err
	}
	r.cmd.Stdin, r.cmd.Stdout, r.cmd.Stderr = devnull, outW, errW
	r.stdout, r.stderr = outR, errR
	started := make(chan error, 1)
	go onOwnThread(func() {
		err := r.sandbox.apply() // this thread only
		if err == nil {
			r.cmd.SysProcAttr.Ptrace = r.sandbox.limits.any() // stop at exec, see setLimits
			err = r.cmd.Start()
		}
		outW.Close() // the child has its copies
		errW.Close()
		if err != nil {
			started <- err
			return // and the confined thread ends
		}
		pid := r.cmd.Process.Pid
		if r.cmd.SysProcAttr.Ptrace {
			if err := r.sandbox.limits.set(pid); err != nil {
				killGroup(pid)
				_ = r.cmd.Wait()
				started <- err
				return
			}
		}
		r.pid.Store(int64(pid))
		if r.killed.Load() { // Kill came while the process was being forked
			killGroup(pid)
		}
		started <- nil
		r.waitErr = r.cmd.Wait()
		killGroup(pid) // nothing the plugin started outlives it
		close(r.exited)
	})
	if err := <-started; err != nil {
		r.closePipes()
		return err
	}
	return nil
}

// onOwnThread runs f on an OS thread no other goroutine will ever run on: the thread ends
// when f returns. It is never the process's main thread, whose identity is the process's own
// (Linux checks a signal sent to the host against the main thread's confinement).
func onOwnThread(f func()) {
	runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
	if isMainThread() {
		locked := make(chan struct{})
		go func() {
			runtime.LockOSThread() // not the main thread: this goroutine holds it
			close(locked)
			f()
		}()
		<-locked
		runtime.UnlockOSThread()
		return
	}
	f()
}

func (r *procRunner) Wait(context.Context) error {
	<-r.exited
	r.closePipes()
	return r.waitErr
}

// Kill kills the process and its group; any goroutine may call it, at any time.
func (r *procRunner) Kill(context.Context) error {
	r.killed.Store(true)
	if pid := r.PID(); pid > 0 {
		killGroup(pid)
	}
	return nil
}

// PID is the process's id, 0 until it has started.
func (r *procRunner) PID() int { return int(r.pid.Load()) }

func (r *procRunner) closePipes() {
	r.closeOnce.Do(func() {
		r.stdout.Close()
		r.stderr.Close()
	})
}

func (r *procRunner) Stdout() io.ReadCloser           { return &lineSeen{r.stdout, &r.handshook} }
func (r *procRunner) Stderr() io.ReadCloser           { return newStderrGuard(r.stderr) }
func (r *procRunner) Name() string                    { return r.name }
func (r *procRunner) ID() string                      { return strconv.Itoa(r.PID()) }
func (r *procRunner) Diagnose(context.Context) string { return "" }

// identity is the address translation of a plugin that shares the host's filesystem.
type identity struct{}

func (identity) PluginToHost(n, a string) (string, string, error) { return n, a, nil }
func (identity) HostToPlugin(n, a string) (string, string, error) { return n, a, nil }

var _ runner.Runner = (*procRunner)(nil)

// lineSeen sets seen once a whole line has been read through it.
type lineSeen struct {
	io.ReadCloser
	seen *atomic.Bool
}

func (l *lineSeen) Read(p []byte) (int, error) {
	n, err := l.ReadCloser.Read(p)
	if n > 0 && !l.seen.Load() && bytes.IndexByte(p[:n], '\n') >= 0 {
		l.seen.Store(true)
	}
	return n, err
}
