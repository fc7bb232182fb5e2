// Package multiproc runs a test's work in several processes at once, for the tests of drivers
// whose store is shared between processes (postgres, etcd): many clients on one store, each a
// process of its own, with its own connections and its own view of the store. It is test
// machinery, in one place so that every driver runs the same children and the same Workload.
//
// The children are the test binary itself, run again with only TestChild selected. A driver's
// test package therefore holds
//
//	func TestChild(t *testing.T) { multiproc.Child(t) }
//
// and registers, from init functions, the roles its children can play:
//
//	func init() { multiproc.Register("migrate", migrateChild) }
//
// Roles must be registered at init time, not in a test: the child runs no test but TestChild,
// so a role registered by another test does not exist in the child.
//
// A test starts children with Start, each given the role, a target (a DSN, a list of
// endpoints) and an argument of its own. A child announces itself on its standard output,
// waits for the start signal (Go), so that all children start their work at the same moment,
// runs its role, which reports in lines on standard output, and exits 0; or 2 with a message
// on standard error. Run starts and waits for all of them and fails the test for any child
// that failed, or that had not ended by a deadline. A child whose parent is gone (its
// standard input closed) exits at once, so no child outlives a test binary that died.
//
// Workload is the shared multi-process workload of counters and bank accounts.
package multiproc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// The environment of a child: its role, its target and its argument.
const (
	roleEnv   = "DOCKYARD_MULTIPROC_ROLE"
	targetEnv = "DOCKYARD_MULTIPROC_TARGET"
	argEnv    = "DOCKYARD_MULTIPROC_ARG"
)

// The lines of the protocol: readyLine is a child's first line of output, which tells the
// parent that it runs Child; startLine is the start signal on its standard input.
const (
	readyLine = "multiproc: ready"
	startLine = "go\n"
)

// A RoleFunc is the work of a child: it gets the child's target and argument, and writes its
// report, in lines, to out. The child fails if it returns an error.
type RoleFunc func(ctx context.Context, target, arg string, out io.Writer) error

var (
	rolesMu sync.Mutex
	roles   = map[string]RoleFunc{}
)

// Register makes fn the role named role, in this process and in its children. Call it from an
// init function (see the package doc). It panics if role is empty or already registered, or
// fn is nil.
func Register(role string, fn RoleFunc) {
	rolesMu.Lock()
	defer rolesMu.Unlock()
	switch {
	case role == "":
		panic("multiproc: Register with an empty role")
	case fn == nil:
		panic("multiproc: Register of role " + role + " with a nil function")
	case roles[role] != nil:
		panic("multiproc: role " + role + " registered twice")
	}
	roles[role] = fn
}

func lookup(role string) RoleFunc {
	rolesMu.Lock()
	defer rolesMu.Unlock()
	return roles[role]
}

// Child is the body of a driver's TestChild. In the parent test binary (no role in its
// environment) it returns at once. In a child it announces itself, waits for the start
// signal, runs its role with its target and argument and exits: 0, or 2 with a message on
// standard error if the role is not registered, the start signal does not come, the role
// returns an error, or the parent goes away.
func Child(t *testing.T) {
	role := os.Getenv(roleEnv)
	if role == "" {
		return
	}
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "multiproc child %s (pid %d): "+format+"\n", append([]any{role, os.Getpid()}, args...)...)
		os.Exit(2)
	}
	fn := lookup(role)
	if fn == nil {
		fail("no such role: register it with multiproc.Register from an init function")
	}
	fmt.Println(readyLine)
	in := bufio.NewReader(os.Stdin)
	if line, err := in.ReadString('\n'); err != nil || line != startLine {
		fail("waiting for the start signal: read %q, %v", line, err)
	}
	// The parent keeps the pipe open until the child has exited: end of file means it is gone.
	go func() {
		_, _ = io.Copy(io.Discard, in)
		fail("the parent process is gone")
	}()
	if err := fn(t.Context(), os.Getenv(targetEnv), os.Getenv(argEnv), os.Stdout); err != nil {
		fail("%v", err)
	}
	os.Exit(0)
}

// Proc is a child process.
type Proc struct {
	// Lines are the lines of the child's standard output, except its announcement, closed at
	// its end. Reading them follows the child as it runs; Wait returns those not read.
	Lines <-chan string

	i        int // its index among the children Start started
	role     string
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	stderr   lockedBuffer
	ready    bool // the child announced itself; written before Lines is closed
	goOnce   sync.Once
	waitOnce sync.Once
	rest     []string // the lines Wait read
}

// Start starts n children of the test binary in role on target, child i given the argument
// arg(i) (nil: ""), and returns them waiting for their start signal (Go, or Run). It fails t
// if role is not registered. Children still running when t ends are killed.
func Start(t testing.TB, n int, role, target string, arg func(i int) string) []*Proc {
	t.Helper()
	if lookup(role) == nil {
		t.Fatalf("multiproc: role %q is not registered: register it with multiproc.Register from an init function", role)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("multiproc: %v", err)
	}
	ps := make([]*Proc, 0, n)
	for i := range n {
		a := ""
		if arg != nil {
			a = arg(i)
		}
		lines := make(chan string, 1024)
		p := &Proc{Lines: lines, i: i, role: role, cmd: exec.Command(exe, "-test.run=^TestChild$", "-test.count=1")}
		p.cmd.Env = append(os.Environ(), roleEnv+"="+role, targetEnv+"="+target, argEnv+"="+a,
			// Under -race a child exiting 0 would sleep a second first; GORACE's own options win.
			"GORACE="+strings.TrimSpace("atexit_sleep_ms=0 "+os.Getenv("GORACE")))
		p.cmd.Stderr = &p.stderr
		stdout, err := p.cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if p.stdin, err = p.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		if err := p.cmd.Start(); err != nil {
			t.Fatalf("multiproc: start child %d (%s): %v", i, role, err)
		}
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if !p.ready && sc.Text() == readyLine {
					p.ready = true
					continue
				}
				lines <- sc.Text()
			}
			close(lines)
		}()
		t.Cleanup(p.Kill)
		ps = append(ps, p)
	}
	return ps
}

// Go sends p its start signal. Later calls do nothing.
func (p *Proc) Go() {
	p.goOnce.Do(func() { _, _ = io.WriteString(p.stdin, startLine) })
}

// Wait reads the rest of p's output, waits for it to exit and returns the lines it read. Later
// calls return the same lines.
func (p *Proc) Wait() []string {
	p.waitOnce.Do(func() {
		for l := range p.Lines {
			p.rest = append(p.rest, l)
		}
		_ = p.cmd.Wait()
	})
	return p.rest
}

// Kill kills p (SIGKILL where there are signals) and waits for it to exit.
func (p *Proc) Kill() {
	_ = p.cmd.Process.Kill()
	p.Wait()
}

// Pid is p's process ID.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Stderr is what p has written to its standard error so far.
func (p *Proc) Stderr() string { return p.stderr.String() }

// Err waits for p to exit (Wait) and returns nil if it ran its role to the end: it ran Child,
// exited 0 and wrote nothing on its standard error (where the race detector reports).
// Otherwise the error says how it ended, with its standard error.
func (p *Proc) Err() error {
	p.Wait()
	st, stderr := p.cmd.ProcessState, p.Stderr()
	if st.Success() && stderr == "" && p.ready {
		return nil
	}
	msg := fmt.Sprintf("child %d (%s, pid %d): %v", p.i, p.role, p.Pid(), st)
	if st.Success() && !p.ready {
		msg += ", without running multiproc.Child: does the test binary have func TestChild(t *testing.T) { multiproc.Child(t) }?"
	}
	if stderr != "" {
		msg += "\nstderr:\n" + stderr
	}
	return errors.New(msg)
}

// Run sends every child its start signal and waits for all of them. It fails t for each child
// that failed (Err), and kills them all and fails t if any is still running after timeout. It
// returns each child's standard output, in lines, except those already read from Lines.
func Run(t testing.TB, ps []*Proc, timeout time.Duration) [][]string {
	t.Helper()
	for _, p := range ps {
		p.Go()
	}
	outs := make([][]string, len(ps))
	done := make(chan int, len(ps))
	for i, p := range ps {
		go func() {
			outs[i] = p.Wait()
			done <- i
		}()
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	running := len(ps)
	ended := make([]bool, len(ps))
	for running > 0 {
		select {
		case i := <-done:
			ended[i] = true
			running--
		case <-timer.C:
			var late []int
			for i, p := range ps {
				if !ended[i] {
					late = append(late, i)
					_ = p.cmd.Process.Kill()
				}
			}
			t.Fatalf("multiproc: children %v of %d still running after %v", late, len(ps), timeout)
		}
	}
	failed := false
	for _, p := range ps {
		if err := p.Err(); err != nil {
			t.Error(err)
			failed = true
		}
	}
	if failed {
		t.FailNow()
	}
	return outs
}

// lockedBuffer is a bytes.Buffer that exec's copying goroutine can write while Stderr reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
