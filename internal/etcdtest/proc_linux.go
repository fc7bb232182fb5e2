package etcdtest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// shmDir is tmpfs on Linux: etcd's syncs cost nothing there.
const shmDir = "/dev/shm"

// minFree is the room a base directory must have: the members' write-ahead logs and backends.
const minFree = 2 << 30

// baseDirs returns the directories that hold clusters' directories, preferred first.
func baseDirs() []string {
	if tmp := os.TempDir(); tmp != shmDir {
		return []string{shmDir, tmp}
	}
	return []string{shmDir}
}

// roomy reports whether dir is a writable directory with at least minFree bytes free.
func roomy(dir string) bool {
	var st syscall.Statfs_t
	if syscall.Statfs(dir, &st) != nil || syscall.Access(dir, 0o2|0o1) != nil {
		return false
	}
	return uint64(st.Bavail)*uint64(st.Bsize) >= minFree
}

// killMembers kills the members of the cluster directory dir that still run: the processes
// named by the members' pid files whose command line names dir (so not a process that reused
// the PID).
func killMembers(dir string) {
	pids, _ := filepath.Glob(filepath.Join(dir, "m*", "pid"))
	for _, f := range pids {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err == nil && strings.Contains(string(cmdline), "--data-dir="+filepath.Dir(f)+"/") {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
