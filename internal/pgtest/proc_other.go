//go:build !linux

package pgtest

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// runAs is the user the server's binaries run as; only Linux switches users.
type runAs struct{}

// serverUser returns nil (the current user), or an error when that is root, which PostgreSQL
// refuses: running the server as another user is implemented for Linux only.
func serverUser() (*runAs, error) {
	if os.Geteuid() == 0 {
		return nil, fmt.Errorf("pgtest: %w: running as root, which PostgreSQL refuses; switching to the postgres user is implemented on Linux only", ErrUnavailable)
	}
	return nil, nil
}

func (a *runAs) chown(string) error { return nil }

// startProcess starts cmd. Without Linux's parent-death signal, only Shutdown stops the server.
func startProcess(cmd *exec.Cmd, _ *runAs, _ syscall.Signal) (*process, error) {
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

func lockOwner(string) (func(), error) { return func() {}, nil }

func removeStaleDirs() {}
