//go:build unix && !linux

package pluginhost

import "syscall"

// sysProcAttr: without a parent-death signal, pdk/pluginguest's parent watch ends orphaned plugins.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup sends SIGKILL to the plugin (elsewhere it has no process group of its own).
func killGroup(pid int) { _ = syscall.Kill(pid, syscall.SIGKILL) }
