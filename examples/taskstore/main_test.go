package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/examples/taskstore/tasks"
	"github.com/dockyard/dockyard/internal/etcdtest"
	"github.com/dockyard/dockyard/store"
)

func TestMain(m *testing.M) { etcdtest.Main(m) }

// TestRun runs the demo on both compiled-in drivers, twice on the same sqlite file so the
// second run finds the first run's tasks and its migrations already applied.
func TestRun(t *testing.T) {
	ctx := context.Background()
	if err := run(ctx, "inmem", "", 0, io.Discard); err != nil {
		t.Fatalf("inmem: %v", err)
	}
	dsn := filepath.Join(t.TempDir(), "data", "tasks.db")
	for i := 0; i < 2; i++ {
		if err := run(ctx, "sqlite", dsn, 0, io.Discard); err != nil {
			t.Fatalf("sqlite run %d: %v", i+1, err)
		}
	}
	if err := run(ctx, "no-such-driver", "", 0, io.Discard); err == nil {
		t.Fatal("unknown driver: no error")
	}
}

// TestRunEtcd runs the demo twice on one store of the etcd test cluster, the compiled-in
// etcd driver: the second run finds the first run's tasks (three of the workflow, two of a
// workload of six operations), and its migrations applied.
func TestRunEtcd(t *testing.T) {
	dsn := etcdtest.DSN(t)
	for i, want := range []string{"the store already holds 0 tasks\n", "the store already holds 5 tasks\n"} {
		var out bytes.Buffer
		if err := run(context.Background(), "etcd", dsn, 6, &out); err != nil {
			t.Fatalf("etcd run %d: %v\n%s", i+1, err, out.String())
		}
		if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "workload: 6 ops in") {
			t.Errorf("etcd run %d: want %q and a workload line:\n%s", i+1, want, out.String())
		}
	}
}

// TestWorkload runs the workload on an in-memory store (it must use the store the workflow
// migrated) and on sqlite, and checks its report and what it left: every third operation
// created a task, and every created task ended done.
func TestWorkload(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, "inmem", "", 30, &out); err != nil {
		t.Fatalf("inmem: %v", err)
	}
	if !regexp.MustCompile(`\nworkload: 30 ops in \S+ \(\d+ ops/s\)\n$`).Match(out.Bytes()) {
		t.Fatalf("report:\n%s", out.String())
	}
	dsn := filepath.Join(t.TempDir(), "tasks.db")
	if err := run(ctx, "sqlite", dsn, 30, io.Discard); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(ctx, "sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done, err := tasks.New(s).List(ctx, tasks.Done)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 1+10 { // the workflow finished one task
		t.Fatalf("%d done tasks after the workload, want 11", len(done))
	}
}
