package buntdb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dockyard/dockyard/internal/flock"
)

// LockName is the lock file the driver creates in the data directory and holds an exclusive
// flock on while a store is open, where the platform has flock.
const LockName = "store.lock"

// lockDir takes an exclusive, non-blocking flock on the directory's lock file. buntdb has no
// locking of its own, and two writers appending to one file would interleave their records.
// The lock is per open file, so it also keeps two stores of one process apart; the kernel
// drops it when the process dies. Where there is no flock, notably wasip1, it takes no lock:
// inside a WebAssembly sandbox the host mounts the data directory for one store instance alone,
// and keeping a second instance off it is the host's job.
func lockDir(dir string) (unlock func() error, err error) {
	p := filepath.Join(dir, LockName)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("buntdb: open %s: lock file: %w", dir, err)
	}
	if err := flock.TryLock(f); err != nil {
		_ = f.Close()
		if errors.Is(err, flock.ErrUnsupported) {
			return func() error { return nil }, nil
		}
		if errors.Is(err, flock.ErrHeld) {
			return nil, fmt.Errorf("buntdb: open %s: the store is already open (in this or another process): %s is locked", dir, p)
		}
		return nil, fmt.Errorf("buntdb: open %s: lock %s: %w", dir, p, err)
	}
	return f.Close, nil // closing the file releases the lock
}
