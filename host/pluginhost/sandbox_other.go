//go:build unix && !linux

package pluginhost

import (
	"fmt"
	"runtime"
)

// gaps: elsewhere only the environment is clean; nothing confines what the process does.
func (sb *sandbox) gaps() []string {
	return []string{fmt.Sprintf("the filesystem, the network, signals and child processes (no containment on %s)", runtime.GOOS)}
}

func (sb *sandbox) apply() error {
	if sb.require {
		return fmt.Errorf("%w: uncontained would be %v", ErrUncontained, sb.gaps())
	}
	return nil
}

// execPaths: nothing is confined here, so there is nothing to grant.
func execPaths(string) ([]string, error) { return nil, nil }

func isMainThread() bool { return false }

func confined() bool { return false }
