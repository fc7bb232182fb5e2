package rootfs

import (
	"io"
	"os"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"
)

// rootFile is an open file or directory of a FS: an *os.File opened through the os.Root.
// wazero calls it from one goroutine at a time (the guest's).
type rootFile struct {
	fs     *FS
	path   string // relative to the root, for error reports
	f      *os.File
	append bool
	st     sys.Stat_t // status at open: device, inode and type do not change
	closed bool
}

var _ experimentalsys.File = (*rootFile)(nil)

// fileOffset is int64. Seek is declared with it because go vet's stdmethods check insists that
// a method named Seek(int64, int) return (int64, error), while wazero's File interface has it
// return an Errno; vet compares the parameter's spelling, the compiler its identity.
type fileOffset = int64

func newRootFile(r *FS, path string, flag experimentalsys.Oflag, f *os.File) (experimentalsys.File, experimentalsys.Errno) {
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, r.errno("fstat", path, err)
	}
	return &rootFile{fs: r, path: path, f: f, append: flag&experimentalsys.O_APPEND != 0, st: sys.NewStat_t(fi)}, 0
}

func (f *rootFile) isDir() bool { return f.st.Mode.IsDir() }

// check returns EBADF on a closed file, and EISDIR when a file operation meets a directory.
func (f *rootFile) check(wantFile bool) experimentalsys.Errno {
	switch {
	case f.closed:
		return experimentalsys.EBADF
	case wantFile && f.isDir():
		return experimentalsys.EISDIR
	}
	return 0
}

func (f *rootFile) err(op string, err error) experimentalsys.Errno {
	return f.fs.errno(op, f.path, err)
}

// Dev returns the device of the file.
func (f *rootFile) Dev() (uint64, experimentalsys.Errno) { return f.st.Dev, f.check(false) }

// Ino returns the inode of the file.
func (f *rootFile) Ino() (sys.Inode, experimentalsys.Errno) { return f.st.Ino, f.check(false) }

// IsDir reports whether the file is a directory.
func (f *rootFile) IsDir() (bool, experimentalsys.Errno) { return f.isDir(), f.check(false) }

// IsAppend reports whether writes go to the end of the file.
func (f *rootFile) IsAppend() bool { return f.append }

// SetAppend switches append mode. Writes and positioned writes honour it here, not in the
// kernel, so the descriptor is never reopened.
func (f *rootFile) SetAppend(enable bool) experimentalsys.Errno {
	if errno := f.check(true); errno != 0 {
		return errno
	}
	f.append = enable
	return 0
}

// Stat returns the file's current status.
func (f *rootFile) Stat() (sys.Stat_t, experimentalsys.Errno) {
	if f.closed {
		return sys.Stat_t{}, experimentalsys.EBADF
	}
	fi, err := f.f.Stat()
	if err != nil {
		return sys.Stat_t{}, f.err("fstat", err)
	}
	return sys.NewStat_t(fi), 0
}

// Read reads from the current offset.
func (f *rootFile) Read(buf []byte) (int, experimentalsys.Errno) {
	if errno := f.check(true); errno != 0 || len(buf) == 0 {
		return 0, errno
	}
	n, err := f.f.Read(buf)
	if err == io.EOF {
		err = nil
	}
	return n, f.err("read", err)
}

// Pread reads at off without moving the offset.
func (f *rootFile) Pread(buf []byte, off int64) (int, experimentalsys.Errno) {
	if errno := f.check(true); errno != 0 || len(buf) == 0 {
		return 0, errno
	}
	n, err := f.f.ReadAt(buf, off)
	if err == io.EOF {
		err = nil
	}
	return n, f.err("pread", err)
}

// Seek moves the offset. On a directory only a rewind (0, SeekStart) is allowed: it restarts
// Readdir.
func (f *rootFile) Seek(offset fileOffset, whence int) (int64, experimentalsys.Errno) {
	if f.closed {
		return 0, experimentalsys.EBADF
	}
	if uint(whence) > io.SeekEnd {
		return 0, experimentalsys.EINVAL
	}
	if f.isDir() {
		if offset != 0 || whence != io.SeekStart {
			return 0, experimentalsys.EISDIR
		}
	}
	n, err := f.f.Seek(offset, whence)
	return n, f.err("seek", err)
}

// Readdir reads up to n entries (all remaining when n <= 0); none at the end.
func (f *rootFile) Readdir(n int) ([]experimentalsys.Dirent, experimentalsys.Errno) {
	if f.closed || !f.isDir() {
		return nil, experimentalsys.EBADF
	}
	entries, err := f.f.ReadDir(n)
	if err != nil && err != io.EOF {
		return nil, f.err("readdir", err)
	}
	dirents := make([]experimentalsys.Dirent, 0, len(entries))
	for _, e := range entries {
		dirents = append(dirents, experimentalsys.Dirent{Name: e.Name(), Type: e.Type()})
	}
	return dirents, 0
}

// Write writes at the current offset, or at the end in append mode.
func (f *rootFile) Write(buf []byte) (int, experimentalsys.Errno) {
	if errno := f.check(true); errno != 0 || len(buf) == 0 {
		return 0, errno
	}
	if f.append {
		if _, err := f.f.Seek(0, io.SeekEnd); err != nil {
			return 0, f.err("write", err)
		}
	}
	off, err := f.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, f.err("write", err)
	}
	return f.written(off, buf, func() (int, error) { return f.f.Write(buf) })
}

// written runs a write of buf at off within the quota: the growth of the file it would make
// is reserved first, and what a short write did not use given back.
func (f *rootFile) written(off int64, buf []byte, write func() (int, error)) (int, experimentalsys.Errno) {
	q := f.fs.quota
	if q == nil {
		n, err := write()
		return n, f.err("write", err)
	}
	fi, err := f.f.Stat()
	if err != nil {
		return 0, f.err("write", err)
	}
	size := fi.Size()
	growth := func(n int) int64 { return max(0, off+int64(n)-size) }
	if errno := q.grow(growth(len(buf))); errno != 0 {
		return 0, errno
	}
	n, err := write()
	q.shrink(growth(len(buf)) - growth(n))
	return n, f.err("write", err)
}

// Pwrite writes at off without moving the offset. In append mode it appends, as pwrite(2)
// does on Linux for a file opened with O_APPEND.
func (f *rootFile) Pwrite(buf []byte, off int64) (int, experimentalsys.Errno) {
	if errno := f.check(true); errno != 0 || len(buf) == 0 {
		return 0, errno
	}
	if f.append {
		return f.Write(buf)
	}
	return f.written(off, buf, func() (int, error) { return f.f.WriteAt(buf, off) })
}

// Truncate sets the file's size.
func (f *rootFile) Truncate(size int64) experimentalsys.Errno {
	if errno := f.check(true); errno != 0 {
		return errno
	}
	if size < 0 {
		return experimentalsys.EINVAL
	}
	fi, err := f.f.Stat()
	if err != nil {
		return f.err("truncate", err)
	}
	if errno := f.fs.quota.grow(size - fi.Size()); errno != 0 {
		return errno
	}
	if err := f.f.Truncate(size); err != nil {
		f.fs.quota.shrink(size - fi.Size())
		return f.err("truncate", err)
	}
	f.fs.quota.shrink(fi.Size() - size)
	return 0
}

// Sync flushes the file's data and metadata to stable storage.
func (f *rootFile) Sync() experimentalsys.Errno {
	if f.closed {
		return experimentalsys.EBADF
	}
	return f.err("sync", f.f.Sync())
}

// Datasync flushes the file's data to stable storage.
func (f *rootFile) Datasync() experimentalsys.Errno {
	if f.closed {
		return experimentalsys.EBADF
	}
	return f.err("datasync", datasync(f.f))
}

// Utimens sets the file's access and modification times; UTIME_OMIT leaves one unchanged.
func (f *rootFile) Utimens(atim, mtim int64) experimentalsys.Errno {
	if f.closed {
		return experimentalsys.EBADF
	}
	return f.err("utimens", futimens(f.f, atim, mtim))
}

// Close closes the descriptor; closing twice is not an error.
func (f *rootFile) Close() experimentalsys.Errno {
	if f.closed {
		return 0
	}
	f.closed = true
	f.fs.open.Add(-1)
	return f.err("close", f.f.Close())
}
