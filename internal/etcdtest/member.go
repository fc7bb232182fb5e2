package etcdtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dockyard/dockyard/internal/testproc"
)

// member is one etcd member: its directory holds data/, etcd.log and pid.
type member struct {
	name       string
	dir        string
	clientPort int
	peerPort   int
	proc       *testproc.Process // nil when stopped
}

func (c *Cluster) member(i int) (*member, error) {
	if i < 0 || i >= len(c.members) {
		return nil, fmt.Errorf("etcdtest: no member %d in a cluster of %d", i, len(c.members))
	}
	return c.members[i], nil
}

// Running reports whether member i runs: it was started and has not exited.
func (c *Cluster) Running(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, err := c.member(i)
	return err == nil && m.proc != nil && !m.proc.Exited()
}

// Start starts the stopped or killed member i again, on the same ports and data. It returns
// once the member accepts connections on its client port; WaitHealthy waits for it to serve
// (which needs a quorum of members running).
func (c *Cluster) Start(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.startLocked(i)
}

func (c *Cluster) startLocked(i int) error {
	m, err := c.member(i)
	if err != nil {
		return err
	}
	if m.proc != nil && !m.proc.Exited() {
		return fmt.Errorf("etcdtest: Start of running member %d", i)
	}
	m.proc = nil
	var initial []string
	for _, o := range c.members {
		initial = append(initial, o.name+"="+httpURL(o.peerPort))
	}
	state := "new"
	if _, err := os.Stat(filepath.Join(m.dir, "data", "member")); err == nil {
		state = "existing" // ignored by etcd, which has the membership in its data
	}
	args := append([]string{
		"--name=" + m.name,
		"--data-dir=" + filepath.Join(m.dir, "data"),
		"--listen-client-urls=" + c.clientURL(m.clientPort),
		"--advertise-client-urls=" + c.clientURL(m.clientPort),
		"--listen-peer-urls=" + httpURL(m.peerPort),
		"--initial-advertise-peer-urls=" + httpURL(m.peerPort),
		"--initial-cluster=" + strings.Join(initial, ","),
		"--initial-cluster-token=" + c.token,
		"--initial-cluster-state=" + state,
	}, ServerFlags...)
	if c.tls != nil {
		args = append(args, c.tls.memberFlags()...)
	}
	cmd := exec.Command(c.bin, args...)
	cmd.Dir = m.dir
	// A plain environment: etcd takes every ETCD_* variable for a flag.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + m.dir, "TZ=UTC"}
	if arch := os.Getenv("ETCD_UNSUPPORTED_ARCH"); arch != "" {
		cmd.Env = append(cmd.Env, "ETCD_UNSUPPORTED_ARCH="+arch)
	}
	logf, err := os.OpenFile(filepath.Join(m.dir, "etcd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("etcdtest: %w", err)
	}
	defer logf.Close() // the member has its own copy
	fmt.Fprintf(logf, "--- etcdtest: %s starts (%s)\n", m.name, time.Now().Format(time.RFC3339Nano))
	cmd.Stdout, cmd.Stderr = logf, logf
	p, err := testproc.Start(cmd, syscall.SIGKILL)
	if err != nil {
		return fmt.Errorf("etcdtest: start %s: %w", c.bin, err)
	}
	m.proc = p
	_ = os.WriteFile(filepath.Join(m.dir, "pid"), []byte(strconv.Itoa(p.Pid)), 0o600)
	deadline := time.Now().Add(readyTimeout)
	for {
		conn, err := net.DialTimeout("tcp", endpoint(m.clientPort), time.Second)
		if err == nil {
			_ = conn.Close()
			return nil
		}
		select {
		case <-p.Done():
			m.proc = nil
			return fmt.Errorf("etcdtest: member %d exited while starting (%v); its log:\n%s", i, p.Err(), m.logTail())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			m.kill()
			return fmt.Errorf("etcdtest: member %d did not listen on %s within %v (%v); its log:\n%s", i, endpoint(m.clientPort), readyTimeout, err, m.logTail())
		}
	}
}

// Kill kills member i with SIGKILL and waits for it to exit. Killing a stopped member does
// nothing.
func (c *Cluster) Kill(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, err := c.member(i)
	if err != nil {
		return err
	}
	m.kill()
	return nil
}

func (m *member) kill() {
	if m.proc != nil {
		m.proc.Kill()
		m.proc = nil
	}
}

// Stop stops member i with SIGTERM (etcd's graceful stop: a leader hands its leadership over
// first) and waits for it to exit, sending SIGKILL (and returning an error) after 20 s. That
// usually takes milliseconds; a leader whose followers were all stopped just before can spend
// etcd's request timeout (5 s plus two election timeouts: 6 s) trying to hand over to one of
// them. Stopping a stopped member does nothing.
func (c *Cluster) Stop(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, err := c.member(i)
	if err != nil {
		return err
	}
	return m.stop()
}

func (m *member) stop() error {
	p := m.proc
	if p == nil {
		return nil
	}
	m.proc = nil
	if !p.Stop(syscall.SIGTERM, stopTimeout) {
		return nil // it stopped, or it had died by itself: Kill, a crash
	}
	return fmt.Errorf("etcdtest: %s did not stop within %v of SIGTERM and was killed; its log:\n%s", m.name, stopTimeout, m.logTail())
}

// logTail returns the end of the member's log.
func (m *member) logTail() string {
	b, _ := os.ReadFile(filepath.Join(m.dir, "etcd.log"))
	const max = 3000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}
