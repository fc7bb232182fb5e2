//go:build !linux

package pgtest

import (
	"fmt"
	"os"
	"os/exec"
)

// runAs is the user the server's binaries run as; only Linux switches users.
type runAs struct{}

// serverUser returns nil (the current user), or an error when that is root, which PostgreSQL
// refuses: running the server as another user is implemented for Linux only.
func serverUser() (*runAs, error) {
	if os.Geteuid() == 0 {
		return nil, fmt.Errorf("pgtest: %w: running as root, which PostgreSQL refuses; switching to the postgres user is implemented on Linux only", ErrUnavailable)
	}
	return nil, nil
}

func (a *runAs) chown(string) error { return nil }

func (a *runAs) setCredential(*exec.Cmd) {}

// removeStaleDirs does nothing: the directories of dead test processes are looked for on Linux
// only.
func removeStaleDirs() {}
