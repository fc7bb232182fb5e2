//go:build unix

package testproc

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRemoveStaleDirs: of the directories with the prefix, those whose owner lock is free go
// (once beforeRemove agrees), those whose lock is held stay, and those without a lock go only
// once they are a minute old.
func TestRemoveStaleDirs(t *testing.T) {
	base := t.TempDir()
	mk := func(name string) string {
		dir := filepath.Join(base, name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	locked := func(name string) (string, func()) {
		dir := mk(name)
		unlock, err := LockOwner(dir)
		if err != nil {
			t.Fatal(err)
		}
		return dir, unlock
	}
	live, unlock := locked("p-live")
	defer unlock()
	dead, release := locked("p-dead")
	release() // as the kernel does when the owner dies
	refused, release := locked("p-refused")
	release()
	young := mk("p-young")
	old := mk("p-old")
	if err := os.Chtimes(old, time.Now(), time.Now().Add(-2*staleAge)); err != nil {
		t.Fatal(err)
	}
	other, release := locked("q-dead")
	release()

	var asked []string
	RemoveStaleDirs(base, "p-", func(dir string) bool {
		asked = append(asked, dir)
		return dir != refused
	})
	for dir, want := range map[string]bool{live: true, dead: false, refused: true, young: true, old: false, other: true} {
		_, err := os.Stat(dir)
		if kept := err == nil; kept != want {
			t.Errorf("%s: kept %v, want %v (%v)", filepath.Base(dir), kept, want, err)
		}
	}
	if len(asked) != 2 || asked[0] != dead || asked[1] != refused {
		t.Errorf("beforeRemove was asked about %q; want the two whose lock was free", asked)
	}

	// A second open of a live directory's lock cannot take it: LockOwner fails.
	if _, err := LockOwner(live); err == nil {
		t.Errorf("LockOwner of a locked directory succeeded")
	}
	RemoveStaleDirs(base, "p-", nil)
	if _, err := os.Stat(refused); err == nil {
		t.Errorf("%s, refused once, was kept by a call without beforeRemove", refused)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the live directory: %v", err)
	}
}
