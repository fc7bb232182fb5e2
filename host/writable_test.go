package host

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/store"
)

type warnings struct {
	mu    sync.Mutex
	paths map[string]string // path -> message
}

func (w *warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "path" {
			w.paths[a.Value.String()] = r.Message
		}
		return true
	})
	return nil
}
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnings) WithGroup(string) slog.Handler      { return w }

// TestLoadDirWarnsWritable: a drivers directory, manifest or artifact that others may write is
// loaded with a warning naming it; one only its owner writes gets none.
func TestLoadDirWarnsWritable(t *testing.T) {
	name := uniqueName("writable")
	dir := driverDir(t, name)
	manifest, artifact := filepath.Join(dir, name+".json"), filepath.Join(dir, "inmem.wasm")
	for path, mode := range map[string]os.FileMode{dir: 0o777, manifest: 0o664, artifact: 0o644} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	w := &warnings{paths: map[string]string{}}
	if _, err := LoadDir(context.Background(), dir, WithLogger(slog.New(w))); err != nil {
		t.Fatalf("LoadDir: %v", err)
	}
	if msg := w.paths[dir]; !strings.Contains(msg, "world-writable") {
		t.Errorf("drivers directory (0777): warning %q, want world-writable", msg)
	}
	if msg := w.paths[manifest]; !strings.Contains(msg, "group-writable") {
		t.Errorf("manifest (0664): warning %q, want group-writable", msg)
	}
	if msg, ok := w.paths[artifact]; ok {
		t.Errorf("artifact (0644) warned about: %q", msg)
	}
}

// TestLoadDirRefusesWritable: WithRefuseWritable turns the warning into the load's error,
// naming the path, and the driver is not registered.
func TestLoadDirRefusesWritable(t *testing.T) {
	name := uniqueName("refused")
	dir := driverDir(t, name)
	manifest := filepath.Join(dir, name+".json")
	if err := os.Chmod(manifest, 0o666); err != nil {
		t.Fatal(err)
	}
	_, err := LoadDir(context.Background(), dir, WithLogger(slog.New(slog.DiscardHandler)), WithRefuseWritable())
	if !errors.Is(err, ErrWritable) || !strings.Contains(err.Error(), manifest) || !strings.Contains(err.Error(), "world-writable") {
		t.Fatalf("LoadDir of a world-writable manifest with WithRefuseWritable: %v, want ErrWritable naming %s", err, manifest)
	}
	if slices.Contains(store.Drivers(), name) {
		t.Errorf("the refused driver %q was registered", name)
	}
}
