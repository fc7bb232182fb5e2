//go:build unix

package flock

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Lock takes the exclusive lock of f, waiting as long as another open file holds it.
func Lock(f *os.File) error { return lock(f, syscall.LOCK_EX) }

// TryLock takes the exclusive lock of f without waiting: an error wrapping ErrHeld when another
// open file holds it.
func TryLock(f *os.File) error { return lock(f, syscall.LOCK_EX|syscall.LOCK_NB) }

func lock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		switch {
		case err == nil:
			return nil
		case err == syscall.EINTR:
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return fmt.Errorf("%w: %s", ErrHeld, f.Name())
		}
		return fmt.Errorf("flock %s: %w", f.Name(), err)
	}
}
