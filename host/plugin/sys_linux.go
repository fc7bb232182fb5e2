package plugin

import "syscall"

// sysProcAttr asks Linux to SIGKILL the plugin when the host thread that started it dies, so a
// host killed with SIGKILL leaves no plugin behind (pdk/plugin's parent watch covers the rest).
// That thread is kept alive for the plugin's lifetime (process.go, start).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
