package rootfs

import (
	"fmt"
	"github.com/dockyard/dockyard/internal/logtest"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// newTestFS returns a FS on dir/data, and dir/secret.txt beside it (outside the root).
// maxOpen is the open-file limit of the tests' FS (host/wasmhost's default).
const maxOpen = 256

// logRecorder keeps what the FS logged.
type logRecorder = logtest.Recorder

func newTestFS(t *testing.T) (*FS, string, *logRecorder) {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(dir, "secret.txt")
	if err := os.WriteFile(secret, []byte("TOP SECRET"), 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	rec := &logRecorder{}
	return &FS{root: root, log: slog.New(rec), module: "test", maxOpen: maxOpen}, secret, rec
}

func must(t *testing.T, what string, errno experimentalsys.Errno) {
	t.Helper()
	if errno != 0 {
		t.Fatalf("%s: %v", what, errno)
	}
}

func wantErrno(t *testing.T, what string, got, want experimentalsys.Errno) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func TestRootFSRefusesEscapes(t *testing.T) {
	fsys, secret, rec := newTestFS(t)
	// Links the guest may create, each pointing outside the root one way or another.
	must(t, "symlink relative", fsys.Symlink("../secret.txt", "rel"))
	must(t, "symlink absolute", fsys.Symlink(secret, "abs"))
	must(t, "mkdir", fsys.Mkdir("sub", 0o755))
	must(t, "symlink via dotdot dir", fsys.Symlink("../..", "sub/up"))
	for _, p := range []string{"rel", "abs", "sub/up/secret.txt", "../secret.txt", "sub/../../secret.txt"} {
		f, errno := fsys.OpenFile(p, experimentalsys.O_RDONLY, 0)
		if errno == 0 {
			buf := make([]byte, 64)
			n, _ := f.Read(buf)
			f.Close()
			t.Fatalf("opened %q outside the root and read %q", p, buf[:n])
		}
		wantErrno(t, "open "+p, errno, experimentalsys.EPERM)
		if _, errno := fsys.Stat(p); errno == 0 {
			t.Fatalf("stat %q followed the link out of the root", p)
		}
	}
	// Writing through a link must not reach outside either.
	if _, errno := fsys.OpenFile("rel", experimentalsys.O_WRONLY|experimentalsys.O_TRUNC, 0); errno == 0 {
		t.Fatal("opened the outside file for writing")
	}
	// A hard link of the symlink is one more symlink (link(2) does not follow it): still
	// impossible to follow out.
	if errno := fsys.Link("rel", "hard"); errno == 0 {
		if _, errno := fsys.OpenFile("hard", experimentalsys.O_RDONLY, 0); errno != experimentalsys.EPERM {
			t.Fatalf("open through a hard link of the symlink = %v, want EPERM", errno)
		}
	}
	if errno := fsys.Link("../secret.txt", "hard2"); errno == 0 {
		t.Fatal("hard-linked the outside file")
	}
	if errno := fsys.Rename("../secret.txt", "stolen"); errno == 0 {
		t.Fatal("renamed the outside file in")
	}
	if b, err := os.ReadFile(secret); err != nil || string(b) != "TOP SECRET" {
		t.Fatalf("the outside file changed: %q, %v", b, err)
	}
	// The links themselves are fine to inspect and remove.
	if dst, errno := fsys.Readlink("rel"); errno != 0 || dst != "../secret.txt" {
		t.Fatalf("readlink = %q, %v", dst, errno)
	}
	if st, errno := fsys.Lstat("abs"); errno != 0 || st.Mode&os.ModeSymlink == 0 {
		t.Fatalf("lstat of the link = %v, %v", st.Mode, errno)
	}
	must(t, "unlink link", fsys.Unlink("abs"))
	if _, ok := rec.Find("tried to leave its data directory"); !ok {
		t.Error("escape attempts were not logged")
	}
}

func TestRootFSFileOps(t *testing.T) {
	fsys, _, _ := newTestFS(t)
	rw := experimentalsys.O_RDWR | experimentalsys.O_CREAT
	f, errno := fsys.OpenFile("db", rw|experimentalsys.O_EXCL, 0o600)
	must(t, "create", errno)
	if _, errno := fsys.OpenFile("db", rw|experimentalsys.O_EXCL, 0o600); errno != experimentalsys.EEXIST {
		t.Fatalf("O_EXCL on an existing file = %v, want EEXIST", errno)
	}
	n, errno := f.Write([]byte("hello world"))
	must(t, "write", errno)
	if n != 11 {
		t.Fatalf("wrote %d", n)
	}
	_, errno = f.Pwrite([]byte("WORLD"), 6)
	must(t, "pwrite", errno)
	buf := make([]byte, 5)
	_, errno = f.Pread(buf, 0)
	must(t, "pread", errno)
	if string(buf) != "hello" {
		t.Fatalf("pread = %q", buf)
	}
	off, errno := f.Seek(6, io.SeekStart)
	must(t, "seek", errno)
	if off != 6 {
		t.Fatalf("seek = %d", off)
	}
	_, errno = f.Read(buf)
	must(t, "read", errno)
	if string(buf) != "WORLD" {
		t.Fatalf("read = %q", buf)
	}
	must(t, "sync", f.Sync())
	must(t, "datasync", f.Datasync())
	must(t, "truncate", f.Truncate(5))
	st, errno := f.Stat()
	must(t, "fstat", errno)
	if st.Size != 5 || st.Ino == 0 {
		t.Fatalf("fstat: size %d ino %d", st.Size, st.Ino)
	}
	must(t, "append on", f.SetAppend(true))
	_, errno = f.Pwrite([]byte("!"), 0)
	must(t, "pwrite in append mode", errno)
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano()
	must(t, "futimens", f.Utimens(experimentalsys.UTIME_OMIT, mtime))
	must(t, "close", f.Close())
	must(t, "close twice", f.Close())
	if _, errno := f.Write([]byte("x")); errno != experimentalsys.EBADF {
		t.Fatalf("write after close = %v, want EBADF", errno)
	}
	st, errno = fsys.Stat("db")
	must(t, "stat", errno)
	if st.Size != 6 || st.Mtim != mtime {
		t.Fatalf("stat: size %d (want 6: appended), mtime %d (want %d)", st.Size, st.Mtim, mtime)
	}
	must(t, "utimens", fsys.Utimens("db", mtime, experimentalsys.UTIME_OMIT))

	a, errno := fsys.OpenFile("log", experimentalsys.O_WRONLY|experimentalsys.O_CREAT|experimentalsys.O_APPEND, 0o600)
	must(t, "open append", errno)
	a.Write([]byte("a"))
	a.Write([]byte("b"))
	a.Close()
	if b, err := fsys.root.ReadFile("log"); err != nil || string(b) != "ab" {
		t.Fatalf("append file = %q, %v", b, err)
	}
	tr, errno := fsys.OpenFile("log", experimentalsys.O_RDWR|experimentalsys.O_TRUNC, 0)
	must(t, "open trunc", errno)
	tr.Close()
	if st, _ := fsys.Stat("log"); st.Size != 0 {
		t.Fatalf("O_TRUNC left %d bytes", st.Size)
	}
}

func TestRootFSDirOps(t *testing.T) {
	fsys, _, _ := newTestFS(t)
	must(t, "mkdir", fsys.Mkdir("d", 0o755))
	wantErrno(t, "mkdir again", fsys.Mkdir("d", 0o755), experimentalsys.EEXIST)
	wantErrno(t, "mkdir without parent", fsys.Mkdir("x/y", 0o755), experimentalsys.ENOENT)
	for _, n := range []string{"d/a", "d/b", "d/c"} {
		f, errno := fsys.OpenFile(n, experimentalsys.O_WRONLY|experimentalsys.O_CREAT, 0o600)
		must(t, "create "+n, errno)
		f.Close()
	}
	must(t, "rename", fsys.Rename("d/c", "d/cc"))
	must(t, "link", fsys.Link("d/a", "d/hard"))
	must(t, "symlink", fsys.Symlink("a", "d/soft"))
	dir, errno := fsys.OpenFile("d", experimentalsys.O_RDONLY|experimentalsys.O_DIRECTORY, 0)
	must(t, "open dir", errno)
	defer dir.Close()
	if isDir, _ := dir.IsDir(); !isDir {
		t.Fatal("directory is not a directory")
	}
	if _, errno := dir.Read(make([]byte, 1)); errno != experimentalsys.EISDIR {
		t.Fatalf("read of a directory = %v, want EISDIR", errno)
	}
	names := func() []string {
		var got []string
		for {
			ents, errno := dir.Readdir(2)
			must(t, "readdir", errno)
			if len(ents) == 0 {
				break
			}
			for _, e := range ents {
				got = append(got, e.Name)
			}
		}
		slices.Sort(got)
		return got
	}
	want := []string{"a", "b", "cc", "hard", "soft"}
	if got := names(); !slices.Equal(got, want) {
		t.Fatalf("readdir = %v, want %v", got, want)
	}
	_, errno = dir.Seek(0, io.SeekStart)
	must(t, "rewind", errno)
	if got := names(); !slices.Equal(got, want) {
		t.Fatalf("readdir after rewind = %v, want %v", got, want)
	}
	if _, errno := fsys.OpenFile("d/soft", experimentalsys.O_RDONLY|experimentalsys.O_NOFOLLOW, 0); errno != experimentalsys.ELOOP {
		t.Fatalf("O_NOFOLLOW on a symlink = %v, want ELOOP", errno)
	}
	if _, errno := fsys.OpenFile("d", experimentalsys.O_RDWR|experimentalsys.O_DIRECTORY, 0); errno != experimentalsys.EISDIR {
		t.Fatalf("opening a directory for writing = %v, want EISDIR", errno)
	}
	wantErrno(t, "unlink dir", fsys.Unlink("d"), experimentalsys.EISDIR)
	wantErrno(t, "rmdir file", fsys.Rmdir("d/a"), experimentalsys.ENOTDIR)
	wantErrno(t, "rmdir non-empty", fsys.Rmdir("d"), experimentalsys.ENOTEMPTY)
	wantErrno(t, "unlink missing", fsys.Unlink("nope"), experimentalsys.ENOENT)
	for _, n := range want {
		must(t, "unlink "+n, fsys.Unlink("d/"+n))
	}
	must(t, "rmdir", fsys.Rmdir("d"))
	if _, errno := fsys.Stat("d"); errno != experimentalsys.ENOENT {
		t.Fatalf("stat of removed dir = %v", errno)
	}
	must(t, "chmod root", fsys.Chmod(".", 0o755))
}

// TestOpenFileLimit: an instance opens at most maxOpen files at once; the next open fails
// (and is logged once), and closing one lets the next open succeed.
func TestOpenFileLimit(t *testing.T) {
	fsys, _, rec := newTestFS(t)
	var files []experimentalsys.File
	for i := range maxOpen {
		f, errno := fsys.OpenFile(fmt.Sprintf("f%d", i), experimentalsys.O_CREAT|experimentalsys.O_RDWR, 0o644)
		must(t, "open", errno)
		files = append(files, f)
	}
	if _, errno := fsys.OpenFile("one-more", experimentalsys.O_CREAT|experimentalsys.O_RDWR, 0o644); errno != experimentalsys.EIO {
		t.Fatalf("open past the limit: errno %v, want EIO", errno)
	}
	if _, ok := rec.Find("limit of open files"); !ok {
		t.Error("reaching the limit was not logged")
	}
	must(t, "close", files[0].Close())
	must(t, "close again", files[0].Close()) // a second close frees nothing more
	f, errno := fsys.OpenFile("one-more", experimentalsys.O_CREAT|experimentalsys.O_RDWR, 0o644)
	must(t, "open after a close", errno)
	files[0] = f
	if _, errno := fsys.OpenFile("two-more", experimentalsys.O_CREAT|experimentalsys.O_RDWR, 0o644); errno != experimentalsys.EIO {
		t.Fatalf("a double close freed a slot: errno %v", errno)
	}
	for _, f := range files {
		f.Close()
	}
}

// TestDiskQuota: writes, sparse writes and truncates that would take the data directory past
// its quota fail with EIO, counting what it held before; unlinks, O_TRUNC and renames over a
// file give the bytes back.
func TestDiskQuota(t *testing.T) {
	fsys, _, rec := newTestFS(t)
	if err := fsys.root.WriteFile("old", make([]byte, 400), 0o644); err != nil {
		t.Fatal(err)
	}
	fsys.quota = NewQuota(fsys.root, 1000, fsys.log, "test")
	f, errno := fsys.OpenFile("a", experimentalsys.O_CREAT|experimentalsys.O_RDWR, 0o644)
	must(t, "open", errno)
	defer f.Close()
	_, errno = f.Write(make([]byte, 500))
	must(t, "500 bytes of 600 left", errno)
	_, errno = f.Write(make([]byte, 101))
	wantErrno(t, "101 bytes of 100 left", errno, experimentalsys.EIO)
	_, errno = f.Pwrite([]byte("x"), 1<<30)
	wantErrno(t, "one byte at 1 GiB (a sparse file counts at its size)", errno, experimentalsys.EIO)
	wantErrno(t, "truncate to 1 GiB", f.Truncate(1<<30), experimentalsys.EIO)
	_, errno = f.Pwrite(make([]byte, 100), 0)
	must(t, "overwriting takes nothing", errno)
	if _, ok := rec.Find("disk quota"); !ok {
		t.Error("reaching the quota was not logged")
	}
	must(t, "unlink old", fsys.Unlink("old"))
	_, errno = f.Write(make([]byte, 400))
	must(t, "400 bytes after the unlink", errno)
	must(t, "truncate to 100", f.Truncate(100))
	g, errno := fsys.OpenFile("b", experimentalsys.O_CREAT|experimentalsys.O_RDWR, 0o644)
	must(t, "open b", errno)
	_, errno = g.Write(make([]byte, 900))
	must(t, "900 bytes after the truncate", errno)
	g.Close()
	must(t, "rename b over a", fsys.Rename("b", "a")) // a's 100 bytes are freed
	h, errno := fsys.OpenFile("a", experimentalsys.O_RDWR|experimentalsys.O_TRUNC, 0)
	must(t, "open a with O_TRUNC", errno) // and b's 900
	defer h.Close()
	_, errno = h.Write(make([]byte, 1000))
	must(t, "the whole quota again", errno)
}
