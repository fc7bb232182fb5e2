package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/dockyard/dockyard/examples/taskstore/tasks"
	"github.com/dockyard/dockyard/store"
)

// TestRun runs the demo on both compiled-in drivers, twice on the same sqlite file so the
// second run finds the first run's tasks and its migrations already applied.
func TestRun(t *testing.T) {
	ctx := context.Background()
	if err := run(ctx, "inmem", ""); err != nil {
		t.Fatalf("inmem: %v", err)
	}
	dsn := filepath.Join(t.TempDir(), "data", "tasks.db")
	for i := 0; i < 2; i++ {
		if err := run(ctx, "sqlite", dsn); err != nil {
			t.Fatalf("sqlite run %d: %v", i+1, err)
		}
	}
	if err := run(ctx, "no-such-driver", ""); err == nil {
		t.Fatal("unknown driver: no error")
	}
}

// TestWorkload runs the workload and checks its report and what it left in the store: every
// third operation created a task, and every created task ended done.
func TestWorkload(t *testing.T) {
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "tasks.db")
	if err := run(ctx, "sqlite", dsn); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := workload(ctx, "sqlite", dsn, 30, &out); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^workload: 30 ops in \S+ \(\d+ ops/s\)\n$`).Match(out.Bytes()) {
		t.Fatalf("report %q", out.String())
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
	if err := workload(ctx, "no-such-driver", "", 3, &out); err == nil {
		t.Fatal("workload on an unknown driver: no error")
	}
}
