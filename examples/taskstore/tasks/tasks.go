// Package tasks is a small typed facade over a store.Store: the kind of sub-store (a task store)
// the seam's documentation describes. Tasks have an id, a title, a state and a history of state changes. The facade
// owns its own forward-only MigrationSet, which the application passes to Store.Migrate, and it
// keeps a by-state index beside each task, updated in the same transaction as the task, to show
// what the seam's atomic Update buys a sub-store.
package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/dockyard/dockyard/store"
)

// Namespace is the store namespace the facade owns.
const Namespace = "tasks"

// State is where a task stands.
type State string

// The states of a task. A task starts in Todo; Move allows Todo->Doing, Doing->Done and
// Doing->Todo.
const (
	Todo  State = "todo"
	Doing State = "doing"
	Done  State = "done"
)

var allowed = map[State][]State{Todo: {Doing}, Doing: {Done, Todo}}

// ErrNoTask is returned for an unknown task id; it wraps store.ErrNotFound.
var ErrNoTask = fmt.Errorf("tasks: no such task: %w", store.ErrNotFound)

// ErrBadMove is returned for a state change the workflow does not allow.
var ErrBadMove = errors.New("tasks: move not allowed")

// Task is one task with its history.
type Task struct {
	ID      string       `json:"id"`
	Title   string       `json:"title"`
	State   State        `json:"state"`
	History []Transition `json:"history"`
}

// Transition is one recorded state change.
type Transition struct {
	From State     `json:"from,omitempty"`
	To   State     `json:"to"`
	At   time.Time `json:"at"`
}

// Migrations returns the facade's forward-only migrations. Append new ones; never edit or
// reorder an applied one.
func Migrations() *store.MigrationSet {
	return store.NewMigrationSet().
		MustAdd(store.Migration{ID: "0001_tasks_init", Up: func(_ context.Context, tx store.Tx) error {
			return tx.Put(Namespace, "meta/next_id", []byte("1"))
		}}).
		MustAdd(store.Migration{ID: "0002_tasks_schema_version", Up: func(_ context.Context, tx store.Tx) error {
			return tx.Put(Namespace, "meta/schema", []byte("2"))
		}})
}

// Tasks is the typed facade. It is safe for concurrent use, as the Store is.
type Tasks struct {
	s   store.Store
	now func() time.Time
}

// New returns a facade over s. Run s.Migrate(ctx, Migrations()) first.
func New(s store.Store) *Tasks { return &Tasks{s: s, now: time.Now} }

func taskKey(id string) string            { return "task/" + id }
func indexKey(st State, id string) string { return "state/" + string(st) + "/" + id }

// Create adds a task in state Todo and returns it.
func (t *Tasks) Create(ctx context.Context, title string) (Task, error) {
	var task Task
	err := t.s.Update(ctx, func(tx store.Tx) error {
		raw, err := tx.Get(Namespace, "meta/next_id")
		if err != nil {
			return fmt.Errorf("tasks: read id counter (migrated?): %w", err)
		}
		n, err := strconv.Atoi(string(raw))
		if err != nil {
			return fmt.Errorf("tasks: corrupt id counter %q", raw)
		}
		task = Task{ID: fmt.Sprintf("%06d", n), Title: title, State: Todo,
			History: []Transition{{To: Todo, At: t.now().UTC()}}}
		if err := tx.Put(Namespace, "meta/next_id", []byte(strconv.Itoa(n+1))); err != nil {
			return err
		}
		return put(tx, task)
	})
	return task, err
}

func put(tx store.Tx, task Task) error {
	b, err := json.Marshal(task)
	if err != nil {
		return err
	}
	if err := tx.Put(Namespace, taskKey(task.ID), b); err != nil {
		return err
	}
	return tx.Put(Namespace, indexKey(task.State, task.ID), nil)
}

func get(tx store.Tx, id string) (Task, error) {
	b, err := tx.Get(Namespace, taskKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return Task{}, fmt.Errorf("%w: %q", ErrNoTask, id)
	}
	if err != nil {
		return Task{}, err
	}
	var task Task
	if err := json.Unmarshal(b, &task); err != nil {
		return Task{}, fmt.Errorf("tasks: task %q is corrupt: %w", id, err)
	}
	return task, nil
}

// Get returns the task with the given id, or an error wrapping ErrNoTask.
func (t *Tasks) Get(ctx context.Context, id string) (Task, error) {
	var task Task
	err := t.s.View(ctx, func(tx store.Tx) error {
		var err error
		task, err = get(tx, id)
		return err
	})
	return task, err
}

// Move changes a task's state, recording the transition. The task and the state index change
// in one transaction.
func (t *Tasks) Move(ctx context.Context, id string, to State) (Task, error) {
	var task Task
	err := t.s.Update(ctx, func(tx store.Tx) error {
		var err error
		if task, err = get(tx, id); err != nil {
			return err
		}
		ok := false
		for _, s := range allowed[task.State] {
			ok = ok || s == to
		}
		if !ok {
			return fmt.Errorf("%w: %s -> %s for task %s", ErrBadMove, task.State, to, id)
		}
		if err := tx.Delete(Namespace, indexKey(task.State, id)); err != nil {
			return err
		}
		task.History = append(task.History, Transition{From: task.State, To: to, At: t.now().UTC()})
		task.State = to
		return put(tx, task)
	})
	return task, err
}

// List returns the tasks in state st, by id, or every task if st is empty.
func (t *Tasks) List(ctx context.Context, st State) ([]Task, error) {
	var out []Task
	err := t.s.View(ctx, func(tx store.Tx) error {
		if st == "" {
			kvs, err := tx.Scan(Namespace, "task/")
			if err != nil {
				return err
			}
			for _, kv := range kvs {
				var task Task
				if err := json.Unmarshal(kv.Value, &task); err != nil {
					return fmt.Errorf("tasks: %q is corrupt: %w", kv.Key, err)
				}
				out = append(out, task)
			}
			return nil
		}
		prefix := indexKey(st, "")
		kvs, err := tx.Scan(Namespace, prefix)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			task, err := get(tx, kv.Key[len(prefix):])
			if err != nil {
				return err
			}
			out = append(out, task)
		}
		return nil
	})
	return out, err
}
