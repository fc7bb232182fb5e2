// Command taskstore is the demo application: it opens a store by driver name (the embedded
// default is a sqlite file under ./data/), applies the tasks facade's migrations, and runs a
// small task workflow, printing what it did.
//
// Like any application on Dockyard it also loads the driver artifacts (WebAssembly modules,
// plugin binaries) whose manifests are in the directories DOCKYARD_DRIVERS lists, by importing
// package host/autoload (no call of its own), so the same binary runs on a driver that did not
// exist when it was built:
//
//	DOCKYARD_DRIVERS=./data/drivers taskstore -driver inmem-wasm -dsn ''
//
// With -ops N it then runs a workload of N task operations (creates and moves, each one
// Update) and prints their rate.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/dockyard/dockyard/drivers/etcd" // -driver etcd -dsn etcd://host:port,host:port/prefix
	_ "github.com/dockyard/dockyard/drivers/inmem"
	_ "github.com/dockyard/dockyard/drivers/sqlite"
	"github.com/dockyard/dockyard/examples/taskstore/tasks"
	_ "github.com/dockyard/dockyard/host/autoload" // the wasm and plugin drivers of $DOCKYARD_DRIVERS
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

func main() {
	ctx := context.Background()
	driver := flag.String("driver", "sqlite", "driver name: one of "+strings.Join(store.Drivers(), ", "))
	dsn := flag.String("dsn", "./data/taskstore.db", "data source name for the driver")
	ops := flag.Int("ops", 0, "after the workflow, run this many task operations and print their rate")
	flag.Parse()
	if err := run(ctx, *driver, *dsn, *ops, os.Stdout); err != nil {
		slog.Error("taskstore failed", "err", err)
		os.Exit(1)
	}
}

// workload runs n task operations on the store (each a create or a move, one Update each)
// and prints their rate in a line scripts can read: "workload: N ops in D (R ops/s)".
func workload(ctx context.Context, ts *tasks.Tasks, n int, out io.Writer) error {
	start := time.Now()
	var (
		last tasks.Task
		err  error
	)
	for i := range n {
		switch i % 3 {
		case 0:
			last, err = ts.Create(ctx, fmt.Sprintf("workload task %d", i))
		case 1:
			last, err = ts.Move(ctx, last.ID, tasks.Doing)
		case 2:
			last, err = ts.Move(ctx, last.ID, tasks.Done)
		}
		if err != nil {
			return fmt.Errorf("workload operation %d: %w", i, err)
		}
	}
	d := time.Since(start)
	fmt.Fprintf(out, "workload: %d ops in %v (%.0f ops/s)\n", n, d.Round(time.Millisecond), float64(n)/d.Seconds())
	return nil
}

// run opens the store, migrates it, runs the task workflow and then, if ops > 0, the workload,
// printing to out.
func run(ctx context.Context, driver, dsn string, ops int, out io.Writer) error {
	// A driver whose DSN is a file (sqlite, and a plugin whose manifest says so) creates the
	// file but not its directory: make the default's ./data/.
	if form, _ := pdk.DSNOf(driver); form == pdk.DSNFile {
		if err := os.MkdirAll(filepath.Dir(dsn), 0o755); err != nil {
			return err
		}
	}
	s, err := store.Open(ctx, driver, dsn)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintf(out, "opened %s store %q\n", driver, dsn)
	if err := s.Migrate(ctx, tasks.Migrations()); err != nil {
		return err
	}
	fmt.Fprintf(out, "migrations applied: %d in the set\n", tasks.Migrations().Len())

	ts := tasks.New(s)
	before, err := ts.List(ctx, "")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "the store already holds %d tasks\n", len(before))

	var created []tasks.Task
	for _, title := range []string{"design the seam", "write the sqlite driver", "ship a wasm driver"} {
		t, err := ts.Create(ctx, title)
		if err != nil {
			return err
		}
		created = append(created, t)
		fmt.Fprintf(out, "created task %s %q (%s)\n", t.ID, t.Title, t.State)
	}
	moves := []struct {
		task int
		to   tasks.State
	}{{0, tasks.Doing}, {0, tasks.Done}, {1, tasks.Doing}}
	for _, m := range moves {
		t, err := ts.Move(ctx, created[m.task].ID, m.to)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "moved task %s to %s\n", t.ID, t.State)
	}
	if _, err := ts.Move(ctx, created[2].ID, tasks.Done); err != nil {
		fmt.Fprintf(out, "refused as expected: %v\n", err)
	}
	for _, st := range []tasks.State{tasks.Todo, tasks.Doing, tasks.Done} {
		list, err := ts.List(ctx, st)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%-5s %d tasks\n", st, len(list))
	}
	t, err := ts.Get(ctx, created[0].ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "history of task %s:\n", t.ID)
	for _, h := range t.History {
		from := string(h.From)
		if from == "" {
			from = "(new)"
		}
		fmt.Fprintf(out, "  %s  %s -> %s\n", h.At.Format("2006-01-02 15:04:05.000"), from, h.To)
	}
	if ops > 0 {
		return workload(ctx, ts, ops, out)
	}
	return nil
}
