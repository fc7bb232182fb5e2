package testproc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dockyard/dockyard/internal/flock"
)

// ownerLock is the file in a server's directory that its test process holds locked.
const ownerLock = "owner.lock"

// LockOwner takes the exclusive lock of dir's owner lock (the file owner.lock, created if need
// be) and returns its release. The kernel drops the lock when this process dies, however it
// dies. Where there is no flock(2) (Windows) nothing is locked, and RemoveStaleDirs never takes
// a directory for stale.
func LockOwner(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, ownerLock), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := flock.TryLock(f); err != nil && !errors.Is(err, flock.ErrUnsupported) {
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return func() { _ = f.Close() }, nil
}

// staleAge is how long a directory without an owner lock is left alone: its owner may be about
// to take it.
const staleAge = time.Minute

// RemoveStaleDirs removes the directories base/prefix* of servers whose test process died
// without removing them: their owner lock is free. A directory without an owner lock is left
// alone for a minute (its owner may be about to take it); one whose lock is held, or where
// there is no flock(2) to tell, is left alone.
//
// beforeRemove, unless nil, is called with each stale directory while its lock is held, to stop
// what may still run there (there is no parent-death signal outside Linux, and on Linux it may
// not have arrived yet); the directory is removed only if it returns true, else it is left for
// a later call.
func RemoveStaleDirs(base, prefix string, beforeRemove func(dir string) bool) {
	dirs, _ := filepath.Glob(filepath.Join(base, prefix+"*"))
	for _, dir := range dirs {
		f, err := os.OpenFile(filepath.Join(dir, ownerLock), os.O_RDWR, 0)
		if errors.Is(err, os.ErrNotExist) {
			if st, err := os.Stat(dir); err == nil && st.IsDir() && time.Since(st.ModTime()) > staleAge {
				_ = os.RemoveAll(dir)
			}
			continue
		}
		if err != nil {
			continue
		}
		if flock.TryLock(f) == nil && (beforeRemove == nil || beforeRemove(dir)) {
			_ = os.RemoveAll(dir)
		}
		_ = f.Close()
	}
}
