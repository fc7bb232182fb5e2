package wasmhost

import (
	"errors"
	"fmt"
	"os"

	"github.com/dockyard/dockyard/internal/flock"
)

// ErrLocked is wrapped by the error of an Open whose data directory is already open in
// another store, in this process or another.
var ErrLocked = errors.New("wasmhost: data directory is in use by another store")

// dirLock is an exclusive lock on a data directory, held while a store has it open.
type dirLock struct {
	f *os.File
}

// lockDir takes the exclusive lock of dir without waiting. The lock is an flock(2) on the
// directory itself, not on a file in it: the guest, which sees the directory's contents, has
// nothing it could delete or replace to defeat the lock.
func lockDir(dir string) (*dirLock, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("wasmhost: open data directory for locking: %w", err)
	}
	if err := flock.TryLock(f); err != nil {
		f.Close()
		if errors.Is(err, flock.ErrHeld) {
			return nil, fmt.Errorf("%w: %s is locked by another open store (an flock on the directory; "+
				"close that store first)", ErrLocked, dir)
		}
		return nil, fmt.Errorf("wasmhost: lock data directory %s: %w", dir, err)
	}
	return &dirLock{f: f}, nil
}

// release gives the lock up. Closing the descriptor releases the flock.
func (l *dirLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
