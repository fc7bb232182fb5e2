package multiproc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/drivers/sqlite"
	"github.com/dockyard/dockyard/internal/multiproc"
	"github.com/dockyard/dockyard/store"
)

func TestChild(t *testing.T) { multiproc.Child(t) }

func init() {
	multiproc.Register("echo", func(_ context.Context, target, arg string, out io.Writer) error {
		fmt.Fprintf(out, "target %s\narg %s\n", target, arg)
		return nil
	})
	multiproc.Register("fail", func(context.Context, string, string, io.Writer) error {
		return errors.New("failing on purpose")
	})
	multiproc.Register("hang", func(ctx context.Context, _, _ string, out io.Writer) error {
		fmt.Fprintln(out, "hanging")
		<-ctx.Done()
		return ctx.Err()
	})
	sqliteWorkload.Register("sqlite-workload")
}

// TestRun: two children run a role, each with its own argument, and Run returns their lines.
func TestRun(t *testing.T) {
	ps := multiproc.Start(t, 2, "echo", "the-target", strconv.Itoa)
	if ps[0].Pid() == ps[1].Pid() {
		t.Fatalf("both children have pid %d", ps[0].Pid())
	}
	outs := multiproc.Run(t, ps, time.Minute)
	for i, lines := range outs {
		want := []string{"target the-target", "arg " + strconv.Itoa(i)}
		if !slices.Equal(lines, want) {
			t.Errorf("child %d said %q, want %q", i, lines, want)
		}
	}
}

// TestFailingChild: a child whose role fails exits 2 and says why on its standard error.
func TestFailingChild(t *testing.T) {
	p := multiproc.Start(t, 1, "fail", "", nil)[0]
	p.Go()
	if lines := p.Wait(); len(lines) != 0 {
		t.Errorf("the failing child said %q", lines)
	}
	err := p.Err()
	if err == nil || !strings.Contains(err.Error(), "exit status 2") || !strings.Contains(err.Error(), "failing on purpose") {
		t.Fatalf("Err of a failing child = %v, want exit status 2 and its message", err)
	}
	if !strings.Contains(p.Stderr(), "multiproc child fail") {
		t.Errorf("stderr %q does not name the role", p.Stderr())
	}
}

// TestKill: a child followed through Lines is killed, and Err says it did not end well.
func TestKill(t *testing.T) {
	p := multiproc.Start(t, 1, "hang", "", nil)[0]
	p.Go()
	select {
	case l := <-p.Lines:
		if l != "hanging" {
			t.Fatalf("the child said %q, want hanging", l)
		}
	case <-time.After(time.Minute):
		t.Fatal("the child said nothing within a minute")
	}
	p.Kill()
	if err := p.Err(); err == nil {
		t.Fatal("Err of a killed child is nil")
	}
}

var sqliteWorkload = multiproc.Workload{
	Procs: 2,
	Ops:   50,
	Open:  func(ctx context.Context, path string) (store.Store, error) { return sqlite.Open(ctx, path) },
}

// TestWorkload runs the workload on one SQLite file shared by two processes.
func TestWorkload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sqliteWorkload.Seed(t, s)
	sqliteWorkload.Run(t, s, path, 2*time.Minute)
}
