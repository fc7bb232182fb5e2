//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package buntdb

import (
	"context"
	"strings"
	"testing"
)

// TestSecondOpenOfADirectoryFails runs where the driver locks its directory with flock (the
// platforms of this file's build constraint; internal/flock elsewhere takes no lock, and keeping
// a second store out is the host's job).
func TestSecondOpenOfADirectoryFails(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if s2, err := Open(ctx, dir); err == nil {
		_ = s2.Close()
		t.Fatalf("a second store opened on %s", dir)
	} else if !strings.Contains(err.Error(), "already open") {
		t.Fatalf("second open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, dir)
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	_ = s.Close()
}
