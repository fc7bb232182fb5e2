package tasks_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/examples/taskstore/tasks"
	"github.com/dockyard/dockyard/store"
)

func TestWorkflow(t *testing.T) {
	ctx := context.Background()
	s := inmem.Open()
	defer s.Close()
	if err := s.Migrate(ctx, tasks.Migrations()); err != nil {
		t.Fatal(err)
	}
	ts := tasks.New(s)
	a, err := ts.Create(ctx, "write the seam")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ts.Create(ctx, "write a driver")
	if a.ID != "000001" || b.ID != "000002" || a.State != tasks.Todo {
		t.Fatalf("created %+v and %+v", a, b)
	}
	if _, err := ts.Move(ctx, a.ID, tasks.Done); !errors.Is(err, tasks.ErrBadMove) {
		t.Fatalf("todo -> done: %v, want ErrBadMove", err)
	}
	if _, err := ts.Move(ctx, a.ID, tasks.Doing); err != nil {
		t.Fatal(err)
	}
	a, err = ts.Move(ctx, a.ID, tasks.Done)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.History) != 3 || a.History[2].From != tasks.Doing || a.History[2].To != tasks.Done {
		t.Fatalf("history = %+v", a.History)
	}
	done, _ := ts.List(ctx, tasks.Done)
	todo, _ := ts.List(ctx, tasks.Todo)
	all, _ := ts.List(ctx, "")
	if len(done) != 1 || done[0].ID != a.ID || len(todo) != 1 || todo[0].ID != b.ID || len(all) != 2 {
		t.Fatalf("done=%v todo=%v all=%v", done, todo, all)
	}
	if _, err := ts.Get(ctx, "999999"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get of an unknown id: %v, want ErrNotFound", err)
	}
}
