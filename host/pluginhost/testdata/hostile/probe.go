package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// probe tries each way out of the sandbox that host/pluginhost's TestSandbox names in the
// environment, and logs one record, "hostile probe", with one attribute per attempt: "ok" if
// it got through, else its error. dataDir is the store's DSN, a directory the plugin may write.
func probe(dataDir string) {
	hostPID, _ := strconv.Atoi(os.Getenv("PROBE_HOST_PID"))
	attempts := []struct {
		name string
		try  func() error
	}{
		{"secret", func() error {
			if v, ok := os.LookupEnv("DOCKYARD_TEST_SECRET"); ok {
				return fmt.Errorf("leaked: %q", v)
			}
			return nil
		}},
		{"stdin", func() error {
			b, err := io.ReadAll(io.LimitReader(os.Stdin, 64))
			if err != nil {
				return err
			}
			return fmt.Errorf("read %q", b)
		}},
		{"inherited_fd", func() error {
			fd, _ := strconv.Atoi(os.Getenv("PROBE_FD"))
			var st syscall.Stat_t
			return syscall.Fstat(fd, &st)
		}},
		{"read_outside", func() error { _, err := os.ReadFile(os.Getenv("PROBE_FILE")); return err }},
		{"read_shadow", func() error { _, err := os.ReadFile("/etc/shadow"); return err }},
		{"write_outside", func() error {
			return os.WriteFile(filepath.Join(os.Getenv("PROBE_WRITE_DIR"), "escaped"), []byte("x"), 0o644)
		}},
		{"write_data", func() error {
			return os.WriteFile(filepath.Join(dataDir, "inside"), []byte("x"), 0o644)
		}},
		{"host_environ", func() error {
			_, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", hostPID))
			return err
		}},
		{"tcp", func() error { return dial("tcp", os.Getenv("PROBE_TCP")) }},
		{"tcp_allowed", func() error { return dial("tcp", os.Getenv("PROBE_TCP_ALLOWED")) }},
		{"abstract_socket", func() error { return dial("unix", "@"+os.Getenv("PROBE_ABSTRACT")) }},
		{"exec", func() error { return exec.Command("/bin/sh", "-c", "true").Run() }},
		{"signal_host", func() error { return syscall.Kill(hostPID, syscall.SIGKILL) }},
		{"signal_group", func() error { return syscall.Kill(0, syscall.SIGURG) }},
		{"open_files", func() error {
			var files []*os.File
			defer func() {
				for _, f := range files {
					f.Close()
				}
			}()
			for range 200 {
				f, err := os.Open("/dev/null")
				if err != nil {
					return err
				}
				files = append(files, f)
			}
			return nil
		}},
	}
	var attrs []any
	for _, a := range attempts {
		got := "ok"
		if err := a.try(); err != nil {
			got = err.Error()
			if errors.Is(err, io.EOF) {
				got = "EOF"
			}
		}
		attrs = append(attrs, a.name, got)
	}
	for _, r := range []struct {
		name     string
		resource int
	}{{"rlimit_nofile", syscall.RLIMIT_NOFILE}, {"rlimit_as", syscall.RLIMIT_AS}, {"rlimit_core", syscall.RLIMIT_CORE}} {
		var lim syscall.Rlimit
		if err := syscall.Getrlimit(r.resource, &lim); err != nil {
			attrs = append(attrs, r.name, err.Error())
		} else {
			attrs = append(attrs, r.name, fmt.Sprintf("%d/%d", lim.Cur, lim.Max))
		}
	}
	slog.Info("hostile probe", attrs...)
}

func dial(network, addr string) error {
	c, err := net.DialTimeout(network, addr, 2*time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}
