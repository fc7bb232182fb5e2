//go:build linux

package pluginhost

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dockyard/dockyard/internal/testenv"
	"github.com/dockyard/dockyard/store"
)

// needContainment ends t (through testenv) on a host that cannot contain a plugin entirely:
// Landlock ABI 6 and root, for the PID namespace.
func needContainment(t testing.TB) {
	t.Helper()
	if v := landlockABI(); v < abiScopes {
		testenv.Unavailable(t, "Landlock ABI 6", fmt.Sprintf("this kernel has Landlock ABI %d", v))
	}
	if os.Geteuid() != 0 {
		testenv.Unavailable(t, "root", "a plugin's PID namespace needs CAP_SYS_ADMIN")
	}
}

// TestSandbox runs the hostile plugin's probe: from inside the plugin, every way out that the
// sandbox closes is tried (the host's secrets in its environment, stdin and an inherited
// descriptor; files outside the data path; TCP to a port not allowed; the host's abstract
// socket; exec; a signal to the host; more descriptors than its limit) and must fail, while
// what it allows (its data directory, TCP to the allowed port) works, and its resource limits
// must be those set. The host must survive and go on serving.
func TestSandbox(t *testing.T) {
	needContainment(t)
	t.Setenv("DOCKYARD_TEST_SECRET", "s3cr3t-value")
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	writeDir := t.TempDir()
	if err := os.WriteFile(secret, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	denied, allowed := listen(t, "tcp", "127.0.0.1:0"), listen(t, "tcp", "127.0.0.1:0")
	abstract := fmt.Sprintf("dockyard-probe-%d", os.Getpid())
	listen(t, "unix", "@"+abstract)
	// A descriptor the host holds without close-on-exec, as one it inherited would be.
	f, err := os.Open(secret)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	// The host's stdin is a pipe holding a token.
	restore := stdinPipe(t, "stdin-token")
	defer restore()

	h := &recorder{}
	data := t.TempDir()
	s, err := openHostileAt(context.Background(), t, "probe", data, WithLogger(slog.New(h)),
		WithConnect(allowed.Addr().String()), WithLimits(Limits{Memory: 3 << 30, OpenFiles: 64}),
		WithEnv("PROBE_HOST_PID="+itoa(os.Getpid()), fmt.Sprintf("PROBE_FD=%d", fd), "PROBE_FILE="+secret,
			"PROBE_WRITE_DIR="+writeDir, "PROBE_TCP="+denied.Addr().String(),
			"PROBE_TCP_ALLOWED="+allowed.Addr().String(), "PROBE_ABSTRACT="+abstract))
	if err != nil {
		t.Fatal(err)
	}
	got := waitRecord(t, h, "hostile probe")
	for name, want := range map[string]string{
		"secret":          "ok", // the variable is not there to leak
		"stdin":           `read ""`,
		"inherited_fd":    "bad file descriptor",
		"read_outside":    "permission denied",
		"read_shadow":     "permission denied",
		"write_outside":   "permission denied",
		"write_data":      "ok",
		"host_environ":    "permission denied",
		"tcp":             "permission denied",
		"tcp_allowed":     "ok",
		"abstract_socket": "operation not permitted",
		"exec":            "permission denied",
		"signal_host":     "no such process", // the host is outside the plugin's PID namespace
		"signal_group":    "ok",
		"open_files":      "too many open files",
		"rlimit_nofile":   "64/64",
		"rlimit_as":       fmt.Sprintf("%d/%d", 3<<30, 3<<30),
		"rlimit_core":     "0/0",
	} {
		if !strings.Contains(got[name], want) {
			t.Errorf("probe %s: got %q, want %q", name, got[name], want)
		}
	}
	if _, err := os.Stat(filepath.Join(writeDir, "escaped")); err == nil {
		t.Error("the plugin wrote outside its data directory")
	}
	if _, err := os.Stat(filepath.Join(data, "inside")); err != nil {
		t.Errorf("the plugin could not write its data directory: %v", err)
	}
	if err := s.Update(context.Background(), func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v")) }); err != nil {
		t.Errorf("the host stopped serving after the probe: %v", err)
	}
	closeAndCheck(t, s)
}

func listen(t testing.TB, network, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln
}

// stdinPipe makes the process's descriptor 0 a pipe holding token, until restore.
func stdinPipe(t testing.TB, token string) (restore func()) {
	t.Helper()
	saved, err := syscall.Dup(0)
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteString(token); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := syscall.Dup3(int(r.Fd()), 0, 0); err != nil {
		t.Fatal(err)
	}
	r.Close()
	return func() { _ = syscall.Dup3(saved, 0, 0); syscall.Close(saved) }
}

func TestSandboxOptions(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		dsn  string
		want []string
	}{
		{"", nil},
		{":memory:", nil},
		{"postgres://u@h:5432/db?dockyard_table=x", nil},
		{dir, []string{dir}},
		{filepath.Join(dir, "store.db"), []string{dir}},
		{"file:" + filepath.Join(dir, "store.db") + "?_pragma=busy_timeout(5000)", []string{dir}},
	} {
		if got := dataPath(tc.dsn); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("dataPath(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
	}
	for _, ep := range []string{"localhost", "h:0", "h:65536", "h:http"} {
		if _, err := newSandbox(config{connect: []string{ep}}, ""); err == nil || !strings.Contains(err.Error(), ep) {
			t.Errorf("endpoint %q: %v, want an error naming it", ep, err)
		}
	}
	_, err := Open(context.Background(), binary(t, "inmem"), "", quiet, WithConnect("nowhere"))
	wantErrContains(t, "Open with a bad endpoint", err, ErrStart, "sandbox", `"nowhere"`)
}

// TestSandboxHint: a plugin whose open fails with a permission refused (here the postgres
// plugin, denied the server's port) gets an error that says what its sandbox allows.
func TestSandboxHint(t *testing.T) {
	needContainment(t)
	ln := listen(t, "tcp", "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	_, err := Open(context.Background(), binary(t, "postgres"), "host=127.0.0.1 port="+port+" user=u dbname=d sslmode=disable connect_timeout=2", quiet)
	wantErrContains(t, "a denied connect", err, nil, "permission denied", "sandbox lets it connect by TCP to ports [] only", "WithConnect")
}
