package testproc

import (
	"os/exec"
	"runtime"
	"syscall"
)

// Start starts cmd, arranged so that the kernel sends the process deathSig (0: none) if this
// process dies. The parent-death signal is sent when the thread that started the child ends,
// not the process (go.dev/issue/27505), so the child is started from a goroutine locked to its
// thread, which lives until the child has exited.
//
// cmd.SysProcAttr is kept, with its Pdeathsig set. That includes a Credential to run the
// command as another user: Go sets the parent-death signal after changing the credentials,
// which would clear it.
func Start(cmd *exec.Cmd, deathSig syscall.Signal) (*Process, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = deathSig
	p := newProcess(cmd)
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		p.Pid = cmd.Process.Pid
		started <- nil
		p.waitFor()
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}
