//go:build !linux

package plugin

import "syscall"

// sysProcAttr: without a parent-death signal, pdk/plugin's parent watch ends orphaned plugins.
func sysProcAttr() *syscall.SysProcAttr { return nil }
