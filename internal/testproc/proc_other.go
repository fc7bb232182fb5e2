//go:build !linux

package testproc

import (
	"os/exec"
	"syscall"
)

// Start starts cmd. deathSig is not used: only Linux has a parent-death signal, so here only the
// package's own shutdown stops the process.
func Start(cmd *exec.Cmd, deathSig syscall.Signal) (*Process, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := newProcess(cmd)
	p.Pid = cmd.Process.Pid
	go p.waitFor()
	return p, nil
}
