//go:build unix

package wasmhost

import (
	"os"
	"syscall"
)

// errWouldBlock is flock's answer when another open file description holds the lock.
var errWouldBlock error = syscall.EWOULDBLOCK

func flock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			return err
		}
	}
}
