package wasmhost

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestLockDir(t *testing.T) {
	dir := t.TempDir()
	l1, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockDir(dir); err == nil || !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second lock = %v, want ErrLocked naming %s", err, dir)
	}
	if err := l1.release(); err != nil {
		t.Fatal(err)
	}
	l2, err := lockDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	l2.release()
	if err := l2.release(); err != nil {
		t.Fatalf("second release: %v", err)
	}
}

// lockChildEnv names the directory a re-executed test binary tries to lock (see lockChild).
const lockChildEnv = "DOCKYARD_HOSTWASM_LOCK_CHILD"

// lockChild is the body of the child process of TestLockDirAcrossProcesses: it tries to lock
// dir and reports the outcome in its exit status (0 locked, 3 ErrLocked, 4 other failure).
func lockChild(dir string) {
	l, err := lockDir(dir)
	switch {
	case err == nil:
		l.release()
		os.Exit(0)
	case errors.Is(err, ErrLocked):
		os.Exit(3)
	}
	os.Exit(4)
}

func TestLockDirAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	child := func() int {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), lockChildEnv+"="+dir)
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	}
	l, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if code := child(); code != 3 {
		t.Fatalf("another process locking a locked directory: exit %d, want 3 (ErrLocked)", code)
	}
	l.release()
	if code := child(); code != 0 {
		t.Fatalf("another process locking a released directory: exit %d, want 0", code)
	}
}
