//go:build unix

package artifactbuild

import (
	"fmt"
	"os"
	"syscall"
)

// lock takes an exclusive flock on path, waiting for it, and returns its release.
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("artifactbuild: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("artifactbuild: lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
