// Package flock takes exclusive advisory locks on open files with flock(2), once for the
// packages that need one: the wasm host's data directories, the buntdb driver's lock file and
// the artifact builder's cache entries. The lock belongs to the open file description, so two
// opens in one process exclude each other as two processes do, and the kernel drops it when the
// process dies. A call interrupted by a signal (EINTR) is retried.
package flock

import "errors"

// ErrHeld is wrapped by TryLock's error when another open file holds the lock.
var ErrHeld = errors.New("flock: the file is locked by another open file")

// ErrUnsupported is wrapped by the errors of a platform without flock(2), such as wasip1 and
// Windows.
var ErrUnsupported = errors.New("flock: this platform has no flock(2)")
