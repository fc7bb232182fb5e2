//go:build unix

package pluginhost

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dockyard/dockyard/store"
)

// childEnv names the plugin binary for TestHostChild, the host process TestNoOrphans kills.
const childEnv = "DOCKYARD_TEST_PLUGIN_HOST"

// TestHostChild is not a test of its own: run by TestNoOrphans as a child process (with
// childEnv set), it opens a store on the hostile plugin in spawn mode, prints the plugin's pid
// and that of the child it started, and waits to be killed. Without childEnv it returns at once.
func TestHostChild(t *testing.T) {
	bin := os.Getenv(childEnv)
	if bin == "" {
		return
	}
	s, err := Open(context.Background(), bin, "", WithEnv("DOCKYARD_HOSTILE=spawn"))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	pid := pidOfRunning(t, s)
	fmt.Printf("pid %d %d\n", pid, waitChild(t, pid))
	time.Sleep(time.Minute)
	os.Exit(2) // never reached: the parent kills this process
}

// TestNoOrphans kills a host process with SIGKILL while its plugin runs: the plugin must exit
// too, promptly, and so must the child it started in a session of its own (out of its process
// group: only the plugin's PID namespace takes it down).
func TestNoOrphans(t *testing.T) {
	needContainment(t)
	_, bin := binaries(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHostChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+bin)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	var pid, child int
	if _, serr := fmt.Sscanf(line, "pid %d %d", &pid, &child); err != nil || serr != nil {
		t.Fatalf("host child said %q (%v)", line, err)
	}
	if processGone(pid) || processGone(child) {
		t.Fatalf("plugin %d or its child %d not running while their host is", pid, child)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	waitGone(t, pid, "its killed host (the plugin)")
	waitGone(t, child, "its killed host (the plugin's child)")
}

// TestCloseStopsThePlugin: Close ends the plugin process, and the store is closed.
func TestCloseStopsThePlugin(t *testing.T) {
	s, _ := openSQLite(t)
	pid := pidOfRunning(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !processGone(pid) {
		t.Fatalf("plugin process %d still runs after Close", pid)
	}
	if err := s.Ping(context.Background()); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("Ping after Close: %v", err)
	}
}

// TestAutoMTLS: by default go-plugin gives each plugin process a client certificate to verify
// the host with (PLUGIN_CLIENT_CERT in its environment: mutual TLS); WithoutAutoMTLS gives none,
// and the plugin works over plain gRPC.
func TestAutoMTLS(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		opts []Option
		mtls bool
	}{{[]Option{quiet}, true}, {[]Option{quiet, WithoutAutoMTLS()}, false}} {
		s, err := Open(ctx, binary(t, "inmem"), "", tc.opts...)
		if err != nil {
			t.Fatal(err)
		}
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pidOfRunning(t, s)))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(env), "PLUGIN_CLIENT_CERT="); got != tc.mtls {
			t.Errorf("mutual TLS: plugin given a client certificate = %v, want %v", got, tc.mtls)
		}
		if err := increment(ctx, s, nil); err != nil {
			t.Fatal(err)
		}
		if got := readCounter(t, s); got != 1 {
			t.Fatalf("counter %d, want 1", got)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPluginOutlivesHostThreads: host goroutines that lock their OS thread and return (which
// ends the thread) do not kill a running plugin. The parent-death signal is tied to the thread
// that forked the plugin, so a plugin forked from an ordinary goroutine's thread died with the
// first such goroutine that happened to run on it.
func TestPluginOutlivesHostThreads(t *testing.T) {
	s, _ := openSQLite(t)
	ctx := context.Background()
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	pid := pidOfRunning(t, s)
	for i := range 8 {
		// Each goroutine keeps its thread while it sleeps, so together they take every idle
		// thread of the runtime (and new ones), and then end them all.
		var wg sync.WaitGroup
		for range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
				time.Sleep(20 * time.Millisecond)
			}()
		}
		wg.Wait()
		time.Sleep(10 * time.Millisecond)
		if processGone(pid) {
			t.Fatalf("the plugin (pid %d) died after %d host threads ended", pid, 64*(i+1))
		}
	}
	if err := s.View(ctx, func(tx store.Tx) error {
		_, err := tx.Get("ns", "k")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if now := pidOfRunning(t, s); now != pid {
		t.Fatalf("the plugin was restarted (pid %d, then %d)", pid, now)
	}
}
