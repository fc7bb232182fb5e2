package pluginhost

import (
	"os"
	"syscall"
)

// sysProcAttr puts the plugin in a process group of its own, and asks Linux to SIGKILL the
// plugin when the host thread that started it ends, which is when the plugin has exited or the
// host has died (procRunner.Start keeps that thread for the plugin's lifetime).
//
// Run as root, the plugin is also the first process of a PID namespace of its own: when it
// dies, by that signal or any other way, the kernel kills every process it started, even one
// that left its process group; and it sees no process of the host to signal. (Creating a PID
// namespace takes CAP_SYS_ADMIN; without it, the process group is killed whenever the plugin
// exits or is stopped, and pdk/pluginguest's parent watch ends a plugin orphaned some other way.)
func sysProcAttr() *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if os.Geteuid() == 0 {
		a.Cloneflags = syscall.CLONE_NEWPID
	}
	return a
}

// killGroup sends SIGKILL to the plugin's process group: the plugin (its leader, Setpgid
// above) and every process it started that did not leave the group.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
