//go:build !linux

package etcdtest

import (
	"os"
	"os/exec"
)

// startProcess starts cmd. Without Linux's parent-death signal, only Shutdown and Close stop
// the members.
func startProcess(cmd *exec.Cmd) (*process, error) {
	p := &process{cmd: cmd, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// baseDirs returns the directory that holds clusters' directories.
func baseDirs() []string { return []string{os.TempDir()} }

// roomy reports true: free space is looked at on Linux only, to choose /dev/shm.
func roomy(string) bool { return true }

// killMembers does nothing: without /proc there is no telling that a PID is still a member's.
func killMembers(string) {}
