package sqlite_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/store"
)

// TestREADMEFreshDirectory runs the README's first example in a fresh directory: its DSN,
// ./data/app.db, opens once ./data exists, which the README makes first, and not before (the
// driver creates its file, never a directory), with an error that says what to do and
// nothing created.
func TestREADMEFreshDirectory(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const mkdir, open = `os.MkdirAll("data", 0o750)`, `store.OpenDSN(ctx, "sqlite:./data/app.db")`
	if i, j := strings.Index(string(readme), mkdir), strings.Index(string(readme), open); i < 0 || j < 0 || i > j {
		t.Errorf("the README's example does not make its directory (%s) before it opens the store (%s)", mkdir, open)
	}

	t.Chdir(t.TempDir())
	ctx := context.Background()
	_, err = store.OpenDSN(ctx, "sqlite:./data/app.db")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "make the directory first") {
		t.Errorf("open in a fresh directory: %v; want fs.ErrNotExist saying to make the directory", err)
	}
	if _, err := os.Stat("data"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed open created ./data (stat: %v)", err)
	}

	if err := os.MkdirAll("data", 0o750); err != nil {
		t.Fatal(err)
	}
	s, err := store.OpenDSN(ctx, "sqlite:./data/app.db")
	if err != nil {
		t.Fatalf("open after the README's MkdirAll: %v", err)
	}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("users", "ada", []byte("Ada Lovelace")) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join("data", "app.db")); err != nil {
		t.Errorf("the store's file: %v", err)
	}
}
