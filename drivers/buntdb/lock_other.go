//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package buntdb

// lockDir does nothing where there is no flock, notably wasip1: inside a WebAssembly sandbox the
// host mounts the data directory for one store instance alone, and keeping a second instance
// off it is the host's job.
func lockDir(string) (unlock func() error, err error) {
	return func() error { return nil }, nil
}
