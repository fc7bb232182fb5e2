package regfile

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestFIFO: a FIFO with no writer is refused at once, by every function, where os.Open would
// wait for a writer for ever.
func TestFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "driver.json")
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 3)
	go func() {
		_, _, err := Open(path, -1)
		done <- err
		_, err = ReadFile(path, 1<<20)
		done <- err
		_, err = SHA256(path, -1)
		done <- err
	}()
	for range 3 {
		select {
		case err := <-done:
			if !errors.Is(err, ErrNotRegular) {
				t.Errorf("err = %v, want ErrNotRegular", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("opening a FIFO blocked")
		}
	}
}

// TestTooLarge: a sparse file over the bound is refused from its size, before it is read.
func TestTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.wasm")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(3 << 30); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	if _, err := ReadFile(path, 1<<20); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadFile = %v, want ErrTooLarge", err)
	}
	if _, err := SHA256(path, 1<<20); !errors.Is(err, ErrTooLarge) {
		t.Errorf("SHA256 = %v, want ErrTooLarge", err)
	}
}

func TestDirectoryAndMissing(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadFile(dir, -1); !errors.Is(err, ErrNotRegular) {
		t.Errorf("ReadFile(dir) = %v, want ErrNotRegular", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), -1); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFile(missing) = %v, want os.ErrNotExist", err)
	}
}

func TestReadAndHash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.wasm")
	want := bytes.Repeat([]byte("\x00asm"), 10000)
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path, int64(len(want)))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ReadFile = %d bytes, %v", len(got), err)
	}
	sum, err := SHA256(path, -1)
	if w := sha256.Sum256(want); err != nil || !bytes.Equal(sum, w[:]) {
		t.Fatalf("SHA256 = %x, %v", sum, err)
	}
	if _, err := ReadFile(path, int64(len(want))-1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("one byte over: %v, want ErrTooLarge", err)
	}
}
