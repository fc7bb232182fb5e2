// Package testproc is the one home of the life cycle of the throwaway servers that tests start
// (internal/pgtest's PostgreSQL, internal/etcdtest's etcd members), so that each package says
// only what is its own: which binary, which flags, how to tell that it is ready.
//
// The life cycle is the same for every such server, and none may outlive its test process:
//
//   - Start starts the server's process. On Linux it is started with a parent-death signal,
//     from a goroutine locked to an OS thread that lives as long as the process (the kernel
//     sends the signal when the thread that started the child ends, not the process:
//     go.dev/issue/27505), so the server gets that signal when the test binary dies however
//     it dies: a panic, a -timeout, SIGKILL. Elsewhere there is no such signal and only the
//     package's own shutdown stops the server.
//   - Process.Stop sends a signal of the server's choosing (a graceful or an immediate
//     shutdown), and SIGKILL if the process has not exited within a timeout.
//   - The server's files are in a directory of its own held by an owner lock (LockOwner), a
//     flock(2) that the kernel drops when the test process dies. RemoveStaleDirs, called by the
//     next test process that starts a server, removes the directories whose lock is free, so
//     only the directories of dead test processes go, never those of the test processes
//     running beside it (go test runs packages side by side).
//   - Shared is the server that the tests of one test process share: started on first use,
//     closed after the tests (Main).
//
// CheckOrphan and WaitGone (Unix) are for the tests of those packages: that their servers die
// with their test process and leave nothing behind.
package testproc

import (
	"errors"
	"os"
	"os/exec"
	"time"
)

// Process is a started command and its end.
type Process struct {
	Pid  int // the process ID
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and been waited for
	err  error         // cmd.Wait's result, once done is closed
}

// Done returns a channel that is closed when the process has exited and been waited for.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited (and been waited for).
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err returns the result of waiting for the process (nil for an exit status of 0, an
// *exec.ExitError otherwise) once it has exited, and nil while it runs.
func (p *Process) Err() error {
	if !p.Exited() {
		return nil
	}
	return p.err
}

// Wait waits for the process to exit and returns Err.
func (p *Process) Wait() error {
	<-p.done
	return p.err
}

// Kill sends SIGKILL to the process, unless it has exited, and waits for it to exit.
func (p *Process) Kill() {
	if !p.Exited() {
		_ = p.cmd.Process.Kill()
	}
	<-p.done
}

// Stop sends sig to the process and waits up to timeout for it to exit; after that it kills
// the process (SIGKILL) and waits for it. It reports whether it had to kill. A process that has
// already exited is not signalled; a signal that cannot be sent (Windows sends none but
// SIGKILL) is followed by SIGKILL at once.
func (p *Process) Stop(sig os.Signal, timeout time.Duration) (killed bool) {
	if p.Exited() {
		return false
	}
	if err := p.cmd.Process.Signal(sig); err == nil || errors.Is(err, os.ErrProcessDone) {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		select {
		case <-p.done:
			return false
		case <-timer.C:
		}
	}
	p.Kill()
	return true
}

func newProcess(cmd *exec.Cmd) *Process {
	return &Process{cmd: cmd, done: make(chan struct{})}
}

// waitFor waits for cmd, which has started, and closes p.done.
func (p *Process) waitFor() {
	p.err = p.cmd.Wait()
	close(p.done)
}
