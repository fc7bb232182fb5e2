//go:build !linux

package etcdtest

import "os"

// baseDirs returns the directory that holds clusters' directories.
func baseDirs() []string { return []string{os.TempDir()} }

// roomy reports true: free space is looked at on Linux only, to choose /dev/shm.
func roomy(string) bool { return true }

// killMembers does nothing: without /proc there is no telling that a PID is still a member's.
func killMembers(string) {}
