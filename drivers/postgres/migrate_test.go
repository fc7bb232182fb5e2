package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dockyard/dockyard/drivers/postgres"
	"github.com/dockyard/dockyard/internal/multiproc"
	"github.com/dockyard/dockyard/store"
)

const migrations = 5

// migrationSet is the set the racing processes apply: each migration counts its runs in
// "runs/<id>" and records which process ran it.
func migrationSet() *store.MigrationSet {
	set := store.NewMigrationSet()
	for i := range migrations {
		id := fmt.Sprintf("%04d_step", i+1)
		set.MustAdd(store.Migration{ID: id, Up: func(ctx context.Context, tx store.Tx) error {
			n := uint64(0)
			v, err := tx.Get("mig", "runs/"+id)
			switch {
			case err == nil:
				n = u64(v)
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
			time.Sleep(20 * time.Millisecond) // widen the window for a racing Migrate
			if err := tx.Put("mig", "by/"+id, []byte(strconv.Itoa(os.Getpid()))); err != nil {
				return err
			}
			return tx.Put("mig", "runs/"+id, b64(n+1))
		}})
	}
	return set
}

func init() { multiproc.Register("migrate", migrateChild) }

// migrateChild opens the store (racing the others to create its tables) and migrates it.
func migrateChild(ctx context.Context, dsn, _ string, out io.Writer) error {
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Migrate(ctx, migrationSet()); err != nil {
		return err
	}
	fmt.Fprintln(out, "migrated")
	return nil
}

// TestMigrateProcesses: 4 processes open a new store at the same moment (racing to create its
// tables) and migrate it with the same set: every migration is applied exactly once.
func TestMigrateProcesses(t *testing.T) {
	dsn := dsnWithTable(t, "mig")
	multiproc.Run(t, multiproc.Start(t, 4, "migrate", dsn, nil), 2*time.Minute)
	checkMigratedOnce(t, openT(t, dsn))
}

// checkMigratedOnce checks each migration of migrationSet ran once and is recorded.
func checkMigratedOnce(t *testing.T, s store.Store) {
	t.Helper()
	by := map[string]bool{}
	err := s.View(t.Context(), func(tx store.Tx) error {
		applied, err := store.AppliedMigrations(tx)
		if err != nil {
			return err
		}
		if len(applied) != migrations {
			return fmt.Errorf("%d migrations recorded, want %d", len(applied), migrations)
		}
		for i := range migrations {
			id := fmt.Sprintf("%04d_step", i+1)
			v, err := tx.Get("mig", "runs/"+id)
			if err != nil {
				return fmt.Errorf("%s: %w", id, err)
			}
			if u64(v) != 1 {
				return fmt.Errorf("migration %s ran %d times", id, u64(v))
			}
			pid, err := tx.Get("mig", "by/"+id)
			if err != nil {
				return err
			}
			by[string(pid)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the %d migrations were applied by %d different processes", migrations, len(by))
}

// TestOpenRace opens one new store from 8 goroutines at once, each with a driver (and so
// connections) of its own: the tables are created once and every Open succeeds.
func TestOpenRace(t *testing.T) {
	dsn := dsnWithTable(t, "race")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	start := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			<-start
			s, err := postgres.Open(t.Context(), dsn)
			if err == nil {
				err = s.Migrate(t.Context(), migrationSet())
				_ = s.Close()
			}
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Open racing others: %v", err)
		}
	}
	checkMigratedOnce(t, openT(t, dsn))
}
