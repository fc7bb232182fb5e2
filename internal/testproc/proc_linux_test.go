package testproc

import (
	"errors"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
	"testing"
)

// stalePrefix starts the names of the directories of TestDeathSignal's children.
const stalePrefix = "dockyard-testproc-"

// TestDeathSignal: a process started with a parent-death signal dies when its parent (here a
// child test process, killed with SIGKILL) dies, whether the signal is SIGKILL (etcdtest's) or
// SIGQUIT (pgtest's), and also when it runs as another user, as pgtest's servers do when the
// tests run as root; and the dead parent's directory, whose owner lock the kernel freed, is
// removed as stale.
func TestDeathSignal(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatalf("no sleep(1) to start: %v", err)
	}
	type variant struct {
		name string
		sig  syscall.Signal
		cred *syscall.Credential
	}
	variants := []variant{{"kill", syscall.SIGKILL, nil}, {"quit", syscall.SIGQUIT, nil}}
	if os.Geteuid() == 0 {
		cred := &syscall.Credential{Uid: 65534, Gid: 65534}
		if u, err := user.Lookup("nobody"); err == nil {
			uid, _ := strconv.ParseUint(u.Uid, 10, 32)
			gid, _ := strconv.ParseUint(u.Gid, 10, 32)
			cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		}
		cred.Groups = []uint32{cred.Gid}
		variants = append(variants, variant{"as-nobody", syscall.SIGKILL, cred})
	}
	removeStale := func() { RemoveStaleDirs(os.TempDir(), stalePrefix, nil) }
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			CheckOrphan(t, func() (int, string, error) {
				dir, err := os.MkdirTemp("", stalePrefix)
				if err != nil {
					return 0, "", err
				}
				if _, err := LockOwner(dir); err != nil {
					return 0, "", err
				}
				cmd := exec.Command(sleep, "120")
				if v.cred != nil {
					cmd.SysProcAttr = &syscall.SysProcAttr{Credential: v.cred}
				}
				p, err := Start(cmd, v.sig)
				if err != nil {
					return 0, "", err
				}
				if cmd.SysProcAttr.Pdeathsig != v.sig || cmd.SysProcAttr.Credential != v.cred {
					return 0, "", errors.New("Start did not keep SysProcAttr with its death signal set")
				}
				return p.Pid, dir, nil
			}, removeStale)
		})
	}
}
