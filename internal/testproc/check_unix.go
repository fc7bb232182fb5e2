//go:build unix

package testproc

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// goneTimeout bounds WaitGone.
const goneTimeout = 30 * time.Second

// WaitGone waits for process pid to be gone, or a zombie (it has exited, and its parent has not
// yet waited for it: an orphan waits for init to reap it), and fails t if it still runs after
// 30 s.
func WaitGone(t testing.TB, pid int) {
	t.Helper()
	for deadline := time.Now().Add(goneTimeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) || zombie(pid) {
			return
		}
	}
	t.Fatalf("process %d still exists", pid)
}

// zombie reports whether process pid is a zombie, where /proc tells (Linux).
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state ...: comm may hold spaces and parentheses, the state follows the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	return i >= 0 && strings.HasPrefix(string(b[i+1:]), " Z")
}

// orphanEnv names, in the environment of CheckOrphan's child, the test that the child runs.
const orphanEnv = "DOCKYARD_TESTPROC_ORPHAN_CHILD"

// childTimeout bounds how long CheckOrphan waits for its child to say what it started.
const childTimeout = 2 * time.Minute

// CheckOrphan checks that a server dies with the test process that started it, and that its
// directory is removed as stale afterwards. It runs the test binary again, with only t's test,
// as a child process; there, CheckOrphan calls start, which starts a server and returns the
// process ID of its main process and its directory, and waits. The parent kills the child with
// SIGKILL, waits for the server's process to be gone (its parent-death signal), and calls
// removeStale, after which the directory must be gone.
//
// A test calls it with nothing before it that the child should not do too (the child runs the
// same test): at most a check that a server can be had. Only Linux has a parent-death signal:
// elsewhere CheckOrphan only logs that.
func CheckOrphan(t *testing.T, start func() (pid int, dir string, err error), removeStale func()) {
	t.Helper()
	if os.Getenv(orphanEnv) == t.Name() {
		pid, dir, err := start()
		if err != nil {
			os.Stderr.WriteString("start: " + err.Error() + "\n")
			os.Exit(2)
		}
		os.Stdout.WriteString("server " + strconv.Itoa(pid) + " " + dir + "\n")
		time.Sleep(childTimeout)
		os.Exit(3) // not killed
	}
	if runtime.GOOS != "linux" {
		t.Logf("only Linux has a parent-death signal; elsewhere only the package's shutdown stops a server")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), orphanEnv+"="+t.Name())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stuck := time.AfterFunc(childTimeout, func() { _ = cmd.Process.Kill() })
	line, err := bufio.NewReader(out).ReadString('\n')
	stuck.Stop()
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	var pid int
	rest, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "server ")
	spid, dir, _ := strings.Cut(rest, " ")
	if err == nil && ok {
		pid, err = strconv.Atoi(spid)
	}
	if err != nil || !ok || pid <= 0 || dir == "" {
		t.Fatalf("the child said %q (%v), not which server it started; its stderr:\n%s", line, err, stderr.String())
	}
	WaitGone(t, pid)
	// Still there until the next start, which may be another test process's: go test runs
	// packages side by side, and any of them that starts a server removes stale directories.
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		t.Logf("the dead child's directory %s was already removed, by another process's start", dir)
	} else if err != nil {
		t.Fatalf("the dead child's directory %s: %v", dir, err)
	}
	removeStale()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s still exists after removing stale directories (%v)", dir, err)
	}
}
