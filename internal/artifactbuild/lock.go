package artifactbuild

import (
	"errors"
	"fmt"
	"os"

	"github.com/dockyard/dockyard/internal/flock"
)

// lock takes an exclusive flock on path, waiting for it, and returns its release. Where there is
// no flock it does nothing: concurrent builds of one entry then both run, and the atomic rename
// keeps the result whole.
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("artifactbuild: %w", err)
	}
	if err := flock.Lock(f); err != nil {
		f.Close()
		if errors.Is(err, flock.ErrUnsupported) {
			return func() {}, nil
		}
		return nil, fmt.Errorf("artifactbuild: lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
