package main

import (
	"context"
	"path/filepath"
	"testing"
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
