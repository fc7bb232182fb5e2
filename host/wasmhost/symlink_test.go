package wasmhost

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDSNThroughSymlink: a data directory whose path runs through a symbolic link (one a guest
// of another store planted in its own data directory, say) is refused, and nothing is created
// where the link points.
func TestDSNThroughSymlink(t *testing.T) {
	m, _ := compileGen(t, binding(1, nil, nil))
	base, outside := t.TempDir(), t.TempDir()
	first := filepath.Join(base, "first")
	if err := os.Mkdir(first, 0o750); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(first, "planted")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	for _, dsn := range []string{link, filepath.Join(link, "sub")} {
		tr, err := newTransport(m, dsn, false)
		if err == nil {
			tr.close()
			t.Fatalf("newTransport(%s) mounted a path through a symbolic link", dsn)
		}
		if !strings.Contains(err.Error(), "runs through the symbolic link "+link) {
			t.Errorf("newTransport(%s) = %v, want it to name the link", dsn, err)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("the link's target got %d entries", len(entries))
	}
}
