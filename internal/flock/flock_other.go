//go:build !unix

package flock

import (
	"fmt"
	"os"
)

// Lock is TryLock: it fails with ErrUnsupported.
func Lock(f *os.File) error { return TryLock(f) }

// TryLock fails with ErrUnsupported: there is no flock(2) here.
func TryLock(f *os.File) error { return fmt.Errorf("%w: cannot lock %s", ErrUnsupported, f.Name()) }
