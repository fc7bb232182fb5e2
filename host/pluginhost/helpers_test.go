//go:build unix

package pluginhost

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/store"
)

var (
	buildOnce sync.Once
	built     map[string]string
	buildErr  error
)

// binaries builds the sqlite plugin and the hostile fixture once per test binary.
func binaries(t testing.TB) (sqlite, hostile string) {
	t.Helper()
	return binary(t, "sqlite"), binary(t, "hostile")
}

// binary returns the plugin binary of plugins/<name>, or of the hostile fixture, building every
// one once per test binary.
func binary(t testing.TB, name string) string {
	t.Helper()
	buildOnce.Do(func() {
		built = map[string]string{}
		for name, dir := range map[string]string{
			"sqlite": "../../plugins/sqlite", "inmem": "../../plugins/inmem", "buntdb": "../../plugins/buntdb",
			"postgres": "../../plugins/postgres", "etcd": "../../plugins/etcd",
			"hostile": "testdata/hostile",
		} {
			path, err := artifactbuild.BuildPlugin(dir)
			if err != nil {
				buildErr = err
				return
			}
			built[name] = path
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return built[name]
}

// openSQLite opens a store on the sqlite plugin with a database file in a fresh directory.
func openSQLite(t testing.TB, opts ...Option) (store.Store, string) {
	t.Helper()
	bin, _ := binaries(t)
	dsn := filepath.Join(t.TempDir(), "store.db")
	s, err := Open(context.Background(), bin, dsn, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, dsn
}

// waitGone fails t, after killing it, if process pid has not exited within 5 s; what says
// what it outlived.
func waitGone(t testing.TB, pid int, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !processGone(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d outlived %s by 5s", pid, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// children returns the pids of pid's child processes, as this process sees them.
func children(pid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		c, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The fields after the command name (in parentheses) are the state, then the ppid.
		if i := bytes.LastIndexByte(b, ')'); i > 0 {
			var state string
			var ppid int
			if _, err := fmt.Sscan(string(b[i+1:]), &state, &ppid); err == nil && ppid == pid {
				out = append(out, c)
			}
		}
	}
	return out
}

// noneLeft fails t unless, within 5s, this test process has no child left but the test's
// PostgreSQL server and etcd members: no plugin process, and nothing a plugin started, outlives
// its test.
func noneLeft(t testing.TB) {
	t.Helper()
	var left []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		left = left[:0]
		for _, c := range children(os.Getpid()) {
			comm, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(c), "comm"))
			if name := strings.TrimSpace(string(comm)); !testServer[name] && !processGone(c) {
				left = append(left, fmt.Sprintf("%d (%s)", c, name))
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes left 5s after the test: %v", left)
		}
	}
}

// testServer holds the command names (/proc/PID/comm) of the test servers' processes, which
// this test process starts and keeps until TestMain's end: internal/pgtest's PostgreSQL server
// and internal/etcdtest's etcd members.
var testServer = map[string]bool{"postgres": true, "pg_ctl": true, "etcd": true}

// processGone reports whether pid has exited (a zombie nobody reaped counts as gone).
func processGone(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", itoa(pid), "stat"))
	if err != nil {
		return true
	}
	// The state follows the command name, which is in parentheses.
	for i := len(b) - 1; i > 0; i-- {
		if b[i] == ')' {
			return i+2 < len(b) && b[i+2] == 'Z'
		}
	}
	return false
}

func itoa(n int) string {
	return string(appendInt(nil, n))
}

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// quiet keeps plugin logs out of test output where they are not the subject.
var quiet = WithLogger(slog.New(slog.DiscardHandler))
