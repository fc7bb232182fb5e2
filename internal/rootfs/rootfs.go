// Package rootfs is a WebAssembly guest's data directory as wazero's experimental/sys.FS, on
// top of an os.Root, with a limit of open files and an optional disk quota shared by every
// instance that mounts the directory. host/wasmhost mounts one for each store; the package is a
// self-contained library, as wazero keeps its machinery under internal/.
package rootfs

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"
)

// FS is the guest's data directory: wazero's experimental/sys.FS on top of an os.Root.
//
// wazero's own sysfs.DirFS resolves guest paths by joining strings, so a symlink created inside
// the directory and pointing outside it is followed by the host kernel (wazero issue #2321).
// os.Root resolves every path component itself, relative to the directory's descriptor, and
// refuses any "..", absolute or relative symlink that would leave it. The guest may create
// symlinks as it likes; what it cannot do is follow one out.
type FS struct {
	experimentalsys.UnimplementedFS
	root   *os.Root
	log    *slog.Logger // where escape attempts are reported
	module string

	open       atomic.Int32 // files open, up to maxOpen
	warnedOpen atomic.Bool
	quota      *Quota // of the data directory; nil for none
	maxOpen    int32  // files open at most (WithMaxOpenFiles)
}

var _ experimentalsys.FS = (*FS)(nil)

// New returns the FS of root for the guest module (named in log records, which go to log):
// at most maxOpen files open at once (an open past it fails with EIO), and the bytes of its
// files bounded by quota (nil: none).
func New(root *os.Root, log *slog.Logger, module string, quota *Quota, maxOpen int) *FS {
	return &FS{root: root, log: log, module: module, quota: quota, maxOpen: int32(maxOpen)}
}

// rel turns a path wazero passes (cleaned, relative to the mount, possibly ending in "/") into
// one os.Root takes.
func rel(p string) string {
	if p == "" || p == "/" {
		return "."
	}
	return p
}

// errno maps an os error to a WASI errno. os.Root's refusal to leave the directory ("path
// escapes from parent") becomes EPERM, and is logged.
func (r *FS) errno(op, path string, err error) experimentalsys.Errno {
	if err == nil {
		return 0
	}
	var werr experimentalsys.Errno
	if errors.As(err, &werr) {
		return werr
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		return experimentalsys.UnwrapOSError(en)
	}
	if strings.Contains(err.Error(), "escapes from parent") {
		r.log.Warn("wasm guest tried to leave its data directory", "module", r.module,
			"op", op, "path", path, "err", err)
		return experimentalsys.EPERM
	}
	return experimentalsys.UnwrapOSError(err) // EIO for anything it does not know
}

// osFlags converts wazero's open flags to os.OpenFile's.
func osFlags(f experimentalsys.Oflag) int {
	var flag int
	switch f & (experimentalsys.O_RDONLY | experimentalsys.O_RDWR | experimentalsys.O_WRONLY) {
	case experimentalsys.O_RDWR:
		flag = os.O_RDWR
	case experimentalsys.O_WRONLY:
		flag = os.O_WRONLY
	default:
		flag = os.O_RDONLY
	}
	for _, m := range []struct {
		w  experimentalsys.Oflag
		os int
	}{
		{experimentalsys.O_APPEND, os.O_APPEND},
		{experimentalsys.O_CREAT, os.O_CREATE},
		{experimentalsys.O_EXCL, os.O_EXCL},
		{experimentalsys.O_TRUNC, os.O_TRUNC},
		{experimentalsys.O_SYNC, os.O_SYNC},
		{experimentalsys.O_DSYNC, oDSYNC},
		{experimentalsys.O_RSYNC, os.O_SYNC}, // Linux defines O_RSYNC as O_SYNC
		{experimentalsys.O_DIRECTORY, oDirectory},
	} {
		if f&m.w != 0 {
			flag |= m.os
		}
	}
	return flag
}

// OpenFile opens path inside the root. os.Root follows symlinks itself (inside the root only),
// so O_NOFOLLOW is honoured by refusing a final symlink here.
func (r *FS) OpenFile(path string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	path = rel(path)
	if flag&experimentalsys.O_DIRECTORY != 0 && flag&(experimentalsys.O_WRONLY|experimentalsys.O_RDWR) != 0 {
		return nil, experimentalsys.EISDIR
	}
	if flag&experimentalsys.O_NOFOLLOW != 0 && flag&(experimentalsys.O_CREAT|experimentalsys.O_EXCL) != experimentalsys.O_CREAT|experimentalsys.O_EXCL {
		if fi, err := r.root.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, experimentalsys.ELOOP
		}
	}
	if r.open.Add(1) > r.maxOpen {
		r.open.Add(-1)
		if !r.warnedOpen.Swap(true) {
			r.log.Warn("wasm guest reached its limit of open files; further opens fail with EIO",
				"module", r.module, "limit", r.maxOpen)
		}
		return nil, experimentalsys.EIO // wazero has no EMFILE
	}
	var truncated int64
	if flag&experimentalsys.O_TRUNC != 0 {
		truncated = r.quota.freed(r.root, path)
	}
	f, err := r.root.OpenFile(path, osFlags(flag), perm&fs.ModePerm)
	if err != nil {
		r.open.Add(-1)
		return nil, r.errno("open", path, err)
	}
	r.quota.shrink(truncated)
	file, errno := newRootFile(r, path, flag, f)
	if errno != 0 {
		r.open.Add(-1)
	}
	return file, errno
}

// Lstat returns the status of path without following a final symlink.
func (r *FS) Lstat(path string) (sys.Stat_t, experimentalsys.Errno) {
	fi, err := r.root.Lstat(rel(path))
	if err != nil {
		return sys.Stat_t{}, r.errno("lstat", path, err)
	}
	return sys.NewStat_t(fi), 0
}

// Stat returns the status of path, following symlinks inside the root.
func (r *FS) Stat(path string) (sys.Stat_t, experimentalsys.Errno) {
	fi, err := r.root.Stat(rel(path))
	if err != nil {
		return sys.Stat_t{}, r.errno("stat", path, err)
	}
	return sys.NewStat_t(fi), 0
}

// Mkdir creates a directory.
func (r *FS) Mkdir(path string, perm fs.FileMode) experimentalsys.Errno {
	errno := r.errno("mkdir", path, r.root.Mkdir(rel(path), perm&fs.ModePerm))
	if errno == experimentalsys.ENOTDIR {
		errno = experimentalsys.ENOENT // as wazero's DirFS: a parent is missing
	}
	return errno
}

// Chmod changes permission bits.
func (r *FS) Chmod(path string, perm fs.FileMode) experimentalsys.Errno {
	return r.errno("chmod", path, r.root.Chmod(rel(path), perm&fs.ModePerm))
}

// Rename renames a file or directory; both paths are inside the root.
func (r *FS) Rename(from, to string) experimentalsys.Errno {
	replaced := r.quota.freed(r.root, rel(to))
	err := r.root.Rename(rel(from), rel(to))
	if err == nil {
		r.quota.shrink(replaced)
	} else {
		// rename(2) answers EEXIST or ENOTEMPTY for a non-empty target directory; POSIX
		// allows both, and wazero's DirFS reports ENOTEMPTY.
		if errors.Is(err, syscall.EEXIST) {
			if fi, serr := r.root.Lstat(rel(to)); serr == nil && fi.IsDir() {
				return experimentalsys.ENOTEMPTY
			}
		}
	}
	return r.errno("rename", from+" -> "+to, err)
}

// Rmdir removes an empty directory.
func (r *FS) Rmdir(path string) experimentalsys.Errno {
	p := rel(path)
	fi, err := r.root.Lstat(p)
	if err != nil {
		return r.errno("rmdir", path, err)
	}
	if !fi.IsDir() {
		return experimentalsys.ENOTDIR
	}
	return r.errno("rmdir", path, r.root.Remove(p))
}

// Unlink removes a file or symlink (not the file a symlink points to).
func (r *FS) Unlink(path string) experimentalsys.Errno {
	p := rel(path)
	fi, err := r.root.Lstat(p)
	if err != nil {
		return r.errno("unlink", path, err)
	}
	if fi.IsDir() {
		return experimentalsys.EISDIR
	}
	freed := r.quota.freed(r.root, p)
	if err := r.root.Remove(p); err != nil {
		return r.errno("unlink", path, err)
	}
	r.quota.shrink(freed)
	return 0
}

// Link creates a hard link; both paths are resolved inside the root.
func (r *FS) Link(oldPath, newPath string) experimentalsys.Errno {
	return r.errno("link", oldPath+" -> "+newPath, r.root.Link(rel(oldPath), rel(newPath)))
}

// Symlink creates linkName pointing to target, whatever target says: the link is only text
// until followed, and os.Root never follows it out of the root.
func (r *FS) Symlink(target, linkName string) experimentalsys.Errno {
	return r.errno("symlink", linkName, r.root.Symlink(target, rel(linkName)))
}

// Readlink returns a symlink's text.
func (r *FS) Readlink(path string) (string, experimentalsys.Errno) {
	dst, err := r.root.Readlink(rel(path))
	if err != nil {
		return "", r.errno("readlink", path, err)
	}
	return dst, 0
}

// Utimens sets access and modification times, following symlinks inside the root.
// UTIME_OMIT leaves a time unchanged.
func (r *FS) Utimens(path string, atim, mtim int64) experimentalsys.Errno {
	return r.errno("utimens", path, r.root.Chtimes(rel(path), toTime(atim), toTime(mtim)))
}

// toTime converts wazero's epoch nanoseconds, where UTIME_OMIT means "leave unchanged", to the
// time os.Chtimes takes, where the zero Time means the same.
func toTime(ns int64) time.Time {
	if ns == experimentalsys.UTIME_OMIT {
		return time.Time{}
	}
	return time.Unix(0, ns)
}
