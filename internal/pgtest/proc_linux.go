package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
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

// startProcess starts cmd as user a (nil: the current user), arranged so that the kernel sends
// it deathSig if this process dies. The parent-death signal is sent when the thread that
// started the child ends, not the process (go.dev/issue/27505), so the child is started from a
// goroutine locked to its thread that lives until the child has exited.
func startProcess(cmd *exec.Cmd, a *runAs, deathSig syscall.Signal) (*process, error) {
	attr := &syscall.SysProcAttr{Pdeathsig: deathSig}
	if a != nil {
		// Go sets the parent-death signal after changing the credentials, which would clear it.
		attr.Credential = &syscall.Credential{Uid: a.uid, Gid: a.gid, Groups: []uint32{a.gid}}
	}
	cmd.SysProcAttr = attr
	p := &process{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// ownerLock is the file in a server's directory that its test process holds locked.
const ownerLock = "owner.lock"

// lockOwner takes an exclusive flock on dir's owner lock and returns its release. The kernel
// drops the lock when this process dies, however it dies.
func lockOwner(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, ownerLock), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return func() { _ = f.Close() }, nil
}

// removeStaleDirs removes the directories of throwaway servers whose test process died without
// removing them: their owner lock is free. A directory without an owner lock is left alone
// for a minute (its owner may be about to take it). A directory whose postmaster still runs is
// only sent an immediate shutdown; the next call removes it.
func removeStaleDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
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
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			_ = f.Close() // its owner lives
			continue
		}
		if pid := postmasterPID(dir); pid > 0 && syscall.Kill(pid, 0) == nil {
			_ = syscall.Kill(pid, syscall.SIGQUIT)
			_ = f.Close()
			continue
		}
		_ = os.RemoveAll(dir)
		_ = f.Close()
	}
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
