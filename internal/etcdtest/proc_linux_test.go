package etcdtest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// waitGone waits for process pid to be gone.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
	}
	t.Fatalf("process %d still exists", pid)
}

// TestClose: Close leaves no process and no directory.
func TestClose(t *testing.T) {
	c := NewCluster(t, 1)
	pid := c.members[0].proc.cmd.Process.Pid
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	if _, err := os.Stat(c.dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s still exists after Close (%v)", c.dir, err)
	}
}

// orphanEnv makes TestOrphanChild start a cluster, print its member's PID and its directory,
// and wait to be killed.
const orphanEnv = "DOCKYARD_ETCDTEST_ORPHAN_CHILD"

func TestOrphanChild(t *testing.T) {
	if os.Getenv(orphanEnv) == "" {
		return
	}
	c, err := StartCluster(1)
	if err != nil {
		fmt.Fprintf(os.Stderr, "start: %v\n", err)
		os.Exit(2)
	}
	fmt.Printf("cluster %d %s\n", c.members[0].proc.cmd.Process.Pid, c.dir)
	time.Sleep(time.Minute)
	os.Exit(3) // not killed
}

// TestNoOrphan kills, with SIGKILL, a test process that started a cluster: its member stops by
// itself (the parent-death signal), and the next cluster started removes the dead one's
// directory.
func TestNoOrphan(t *testing.T) {
	if _, err := exec.LookPath("etcd"); err != nil {
		NewCluster(t, 1) // ends t through testenv.Unavailable
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestOrphanChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), orphanEnv+"=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the child printed no cluster (%v); stderr:\n%s", err, stderr.String())
	}
	var pid int
	var dir string
	if _, err := fmt.Sscanf(line, "cluster %d %s", &pid, &dir); err != nil {
		t.Fatalf("child said %q: %v", line, err)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	waitGone(t, pid)
	// Still there until the next start, which may be another test process's: go test runs
	// packages side by side, and any of them that starts a cluster removes stale directories.
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		t.Logf("the dead child's directory %s was already removed, by another process's start", dir)
	} else if err != nil {
		t.Fatalf("the dead child's directory %s: %v", dir, err)
	}
	removeStaleDirs()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s still exists after removeStaleDirs (%v)", dir, err)
	}
}
