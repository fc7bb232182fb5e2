//go:build unix

package flock

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestExclusive: a second open of a locked file cannot take the lock until the first closes.
func TestExclusive(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	a, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := TryLock(a); err != nil {
		t.Fatalf("first lock: %v", err)
	}
	b, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := TryLock(b); !errors.Is(err, ErrHeld) {
		t.Fatalf("second lock while the first is held: %v, want ErrHeld", err)
	}
	a.Close()
	if err := Lock(b); err != nil {
		t.Fatalf("lock after the first was closed: %v", err)
	}
}
