//go:build unix

package testproc

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// startHelper starts the test binary as a helper process (see helperEnv) in mode, and waits
// until it is ready.
func startHelper(t *testing.T, mode string) *Process {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	cmd.Stdout = w
	p, err := Start(cmd, syscall.SIGKILL)
	_ = w.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	if line, err := bufio.NewReader(r).ReadString('\n'); line != "ready\n" {
		t.Fatalf("the helper said %q (%v), not ready", line, err)
	}
	if p.Pid != cmd.Process.Pid || p.Exited() || p.Err() != nil {
		t.Fatalf("a running helper: Pid %d (want %d), Exited %v, Err %v", p.Pid, cmd.Process.Pid, p.Exited(), p.Err())
	}
	return p
}

// signalOf returns the signal that ended the process of err, or -1.
func signalOf(err error) syscall.Signal {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return ws.Signal()
		}
	}
	return -1
}

// TestStop: Stop escalates to SIGKILL, after the timeout, for a process that ignores its
// signal, and not for one that exits on it.
func TestStop(t *testing.T) {
	p := startHelper(t, "ignore-term")
	const timeout = 300 * time.Millisecond
	begin := time.Now()
	if !p.Stop(syscall.SIGTERM, timeout) {
		t.Fatal("Stop of a process ignoring SIGTERM did not kill it")
	}
	if took := time.Since(begin); took < timeout {
		t.Fatalf("Stop killed after %v, before the timeout of %v", took, timeout)
	}
	if !p.Exited() || signalOf(p.Err()) != syscall.SIGKILL {
		t.Fatalf("after Stop: Exited %v, Err %v; want ended by SIGKILL", p.Exited(), p.Err())
	}
	WaitGone(t, p.Pid)
	if p.Stop(syscall.SIGTERM, timeout) {
		t.Fatal("Stop of an exited process killed it")
	}
	p.Kill() // does nothing

	p = startHelper(t, "sleep")
	begin = time.Now()
	if p.Stop(syscall.SIGTERM, time.Minute) {
		t.Fatal("Stop of a process that exits on SIGTERM killed it")
	}
	if took := time.Since(begin); took > 30*time.Second {
		t.Fatalf("Stop took %v", took)
	}
	if signalOf(p.Wait()) != syscall.SIGTERM {
		t.Fatalf("Wait = %v; want ended by SIGTERM", p.Err())
	}
}

// TestStartFails: a command that cannot start is an error, and no process.
func TestStartFails(t *testing.T) {
	p, err := Start(exec.Command(filepath.Join(t.TempDir(), "no-such-program")), syscall.SIGKILL)
	if err == nil || p != nil {
		t.Fatalf("Start of a missing program = %v, %v", p, err)
	}
	p, err = Start(exec.Command(os.Args[0], "-test.run=^$"), syscall.SIGKILL)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(); err != nil || !p.Exited() {
		t.Fatalf("Wait of a process exiting with 0: %v, Exited %v", err, p.Exited())
	}
}
