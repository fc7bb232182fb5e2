package plugin

import "syscall"

// sysProcAttr puts the plugin in a process group of its own, and asks Linux to SIGKILL the
// plugin when the host thread that started it dies, so a host killed with SIGKILL leaves no
// plugin behind (pdk/plugin's parent watch covers the rest).
// That thread is kept alive for the plugin's lifetime (process.go, start).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

// killGroup sends SIGKILL to the plugin's process group: the plugin (its leader, Setpgid
// above) and every process it started that did not leave the group.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
