package etcdtest

import (
	"os"

	"github.com/dockyard/dockyard/internal/testproc"
)

// removeStaleDirs removes the directories of throwaway clusters whose test process died
// without removing them (see testproc.RemoveStaleDirs). Members that still run there (possible
// only without a parent-death signal, or in the moment it takes to arrive) are killed first.
func removeStaleDirs() {
	for _, base := range baseDirs() {
		testproc.RemoveStaleDirs(base, dirPrefix, func(dir string) bool {
			killMembers(dir)
			return true
		})
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
