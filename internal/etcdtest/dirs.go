package etcdtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dockyard/dockyard/internal/flock"
)

// ownerLock is the file in a cluster's directory that its test process holds locked.
const ownerLock = "owner.lock"

// lockOwner takes the exclusive lock of dir's owner lock and returns its release. The kernel
// drops the lock when this process dies, however it dies. Where there is no flock(2) (Windows)
// nothing is locked, and no directory is ever taken for stale.
func lockOwner(dir string) (func(), error) {
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

// removeStaleDirs removes the directories of throwaway clusters whose test process died
// without removing them: their owner lock is free. Members that still run there (possible
// only without a parent-death signal, or in the moment it takes to arrive) are killed first.
// A directory without an owner lock is left alone for a minute: its owner may be about to
// take it.
func removeStaleDirs() {
	for _, base := range baseDirs() {
		dirs, _ := filepath.Glob(filepath.Join(base, dirPrefix+"*"))
		for _, dir := range dirs {
			f, err := os.OpenFile(filepath.Join(dir, ownerLock), os.O_RDWR, 0)
			if errors.Is(err, os.ErrNotExist) {
				if st, err := os.Stat(dir); err == nil && st.IsDir() && time.Since(st.ModTime()) > time.Minute {
					_ = os.RemoveAll(dir)
				}
				continue
			}
			if err != nil {
				continue
			}
			if flock.TryLock(f) != nil {
				_ = f.Close() // its owner lives, or there is no flock(2) to tell
				continue
			}
			killMembers(dir)
			_ = os.RemoveAll(dir)
			_ = f.Close()
		}
	}
}

// baseDir returns the directory to make a cluster's directory in: the first of baseDirs with
// room for one.
func baseDir() string {
	for _, dir := range baseDirs() {
		if roomy(dir) {
			return dir
		}
	}
	return os.TempDir()
}
