// Package regfile opens and reads files that an attacker may have put in place of the ones a
// loader expects: driver manifests and artifacts in a drivers directory.
//
// os.Open of a FIFO blocks until a writer appears, uninterruptibly, and os.ReadFile of a huge
// (or sparse) file reads it all before anything can look at it. So every open here is
// non-blocking, the opened descriptor (not the path, which can be swapped in between) must be
// a regular file, and its size is checked against the caller's bound before a byte is read.
package regfile

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
)

var (
	// ErrNotRegular is wrapped when the path is a FIFO, a device, a socket or a directory.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge is wrapped when the file is over the caller's size bound.
	ErrTooLarge = errors.New("file too large")
)

// Open opens the regular file at path for reading, without blocking, and returns it with its
// size. A file over max bytes is refused (max < 0: no bound).
func Open(path string, max int64) (*os.File, int64, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
	case !fi.Mode().IsRegular():
		err = fmt.Errorf("%s: %w (mode %v)", path, ErrNotRegular, fi.Mode())
	case max >= 0 && fi.Size() > max:
		err = fmt.Errorf("%s: %w: %d bytes, over the limit of %d", path, ErrTooLarge, fi.Size(), max)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// ReadFile reads the regular file at path whole, if it has at most max bytes (also while it
// is read: a file that grows past max is refused).
func ReadFile(path string, max int64) ([]byte, error) {
	f, size, err := Open(path, max)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, 0, size+1)
	r := io.Reader(f)
	if max >= 0 {
		r = io.LimitReader(f, max+1)
	}
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
	if max >= 0 && int64(len(b)) > max {
		return nil, fmt.Errorf("%s: %w: it grew past the limit of %d bytes while read", path, ErrTooLarge, max)
	}
	return b, nil
}

// SHA256 returns the sha256 of the regular file at path, if it has at most max bytes, reading
// it in pieces.
func SHA256(path string, max int64) ([]byte, error) {
	f, _, err := Open(path, max)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	r := io.Reader(f)
	if max >= 0 {
		r = io.LimitReader(f, max+1)
	}
	n, err := io.Copy(h, r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if max >= 0 && n > max {
		return nil, fmt.Errorf("%s: %w: it grew past the limit of %d bytes while read", path, ErrTooLarge, max)
	}
	return h.Sum(nil), nil
}
