package pgtest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/dockyard/dockyard/internal/testproc"
)

// runAs is the user the server's binaries run as, when it is not the current one.
type runAs struct {
	uid, gid uint32
}

// serverUser returns the user to run the binaries as: nil (the current user) unless this
// process is root, which PostgreSQL refuses; then the "postgres" system user.
func serverUser() (*runAs, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w: running as root, which PostgreSQL refuses, and there is no postgres user to run it as (%v)", ErrUnavailable, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil || uid == 0 {
		return nil, fmt.Errorf("pgtest: %w: the postgres user has uid %q, gid %q: not an unprivileged user", ErrUnavailable, u.Uid, u.Gid)
	}
	return &runAs{uid: uint32(uid), gid: uint32(gid)}, nil
}

// chown gives dir to the user, if there is one.
func (a *runAs) chown(dir string) error {
	if a == nil {
		return nil
	}
	return os.Chown(dir, int(a.uid), int(a.gid))
}

// setCredential makes cmd run as the user, if there is one. testproc.Start keeps the
// credential, and the parent-death signal it sets survives it.
func (a *runAs) setCredential(cmd *exec.Cmd) {
	if a == nil {
		return
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: a.uid, Gid: a.gid, Groups: []uint32{a.gid}}}
}

// removeStaleDirs removes the directories of throwaway servers whose test process died without
// removing them (see testproc.RemoveStaleDirs). A directory whose postmaster still runs is
// only sent an immediate shutdown; the next call removes it.
func removeStaleDirs() {
	testproc.RemoveStaleDirs(os.TempDir(), dirPrefix, func(dir string) bool {
		if pid := postmasterPID(dir); pid > 0 && syscall.Kill(pid, 0) == nil {
			_ = syscall.Kill(pid, syscall.SIGQUIT)
			return false
		}
		return true
	})
}

// postmasterPID reads the process ID from the postmaster.pid file of dir's server, or 0.
func postmasterPID(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return 0
	}
	return pid
}
