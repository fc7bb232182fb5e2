package postgres_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"
)

// The child processes of the multi-process tests are this test binary run as TestChild, with
// childEnv naming their role and childDSNEnv the store. A child waits for a line on its
// standard input before it starts work (so that all start together), reports on standard
// output, and exits 0, or 2 with a message on standard error.
const (
	childEnv    = "DOCKYARD_PG_CHILD"
	childDSNEnv = "DOCKYARD_PG_CHILD_DSN"
	childArgEnv = "DOCKYARD_PG_CHILD_ARG"
)

// childRoles are the functions a child can run: they get the DSN and childArgEnv and write
// their report to out.
var childRoles = map[string]func(dsn, arg string, out io.Writer) error{}

// TestChild is the child process of the multi-process tests. Without childEnv set it does
// nothing.
func TestChild(t *testing.T) {
	role := os.Getenv(childEnv)
	if role == "" {
		return
	}
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "child %s (pid %d): "+format+"\n", append([]any{role, os.Getpid()}, args...)...)
		os.Exit(2)
	}
	run := childRoles[role]
	if run == nil {
		fail("unknown role")
	}
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fail("waiting for the start signal: %v", err)
	}
	if err := run(os.Getenv(childDSNEnv), os.Getenv(childArgEnv), os.Stdout); err != nil {
		fail("%v", err)
	}
	os.Exit(0)
}

// child is a running child process.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string // the lines of its standard output; closed at its end
	stderr bytes.Buffer
}

// startChildren starts n children in role on dsn, each given arg(i), and returns them waiting
// for the start signal.
func startChildren(t *testing.T, n int, role, dsn string, arg func(i int) string) []*child {
	t.Helper()
	var cs []*child
	for i := range n {
		c := &child{cmd: exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.count=1"), lines: make(chan string, 1024)}
		c.cmd.Env = append(os.Environ(), childEnv+"="+role, childDSNEnv+"="+dsn, childArgEnv+"="+arg(i))
		c.cmd.Stderr = &c.stderr
		stdout, err := c.cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if c.stdin, err = c.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		if err := c.cmd.Start(); err != nil {
			t.Fatalf("start child %d: %v", i, err)
		}
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				c.lines <- sc.Text()
			}
			close(c.lines)
		}()
		t.Cleanup(func() {
			if c.cmd.ProcessState == nil {
				_ = c.cmd.Process.Kill()
				c.wait()
			}
		})
		cs = append(cs, c)
	}
	return cs
}

// start sends c its start signal.
func (c *child) start() {
	_, _ = io.WriteString(c.stdin, "go\n")
	_ = c.stdin.Close()
}

// wait reads the rest of c's output and waits for it to exit; it returns the lines read.
func (c *child) wait() []string {
	var lines []string
	for l := range c.lines {
		lines = append(lines, l)
	}
	_ = c.cmd.Wait()
	return lines
}

// runChildren starts every child at once and waits for all, failing t for any that failed. It
// returns each child's standard output, in lines.
func runChildren(t *testing.T, cs []*child, timeout time.Duration) [][]string {
	t.Helper()
	for _, c := range cs {
		c.start()
	}
	outs := make([][]string, len(cs))
	done := make(chan struct{}, len(cs))
	for i, c := range cs {
		go func() {
			outs[i] = c.wait()
			done <- struct{}{}
		}()
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for range cs {
		select {
		case <-done:
		case <-timer.C:
			for _, c := range cs {
				_ = c.cmd.Process.Kill()
			}
			t.Fatalf("children still running after %v", timeout)
		}
	}
	failed := false
	for i, c := range cs {
		if !c.cmd.ProcessState.Success() || c.stderr.Len() > 0 {
			t.Errorf("child %d: %v\nstderr:\n%s", i, c.cmd.ProcessState, c.stderr.String())
			failed = true
		}
	}
	if failed {
		t.FailNow()
	}
	return outs
}
