package rootfs

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// Open flags os does not define.
const (
	oDSYNC     = unix.O_DSYNC
	oDirectory = unix.O_DIRECTORY
)

// datasync is fdatasync(2).
func datasync(f *os.File) error {
	var err error
	rc, cerr := f.SyscallConn()
	if cerr != nil {
		return cerr
	}
	if cerr := rc.Control(func(fd uintptr) {
		for {
			if err = unix.Fdatasync(int(fd)); err != unix.EINTR {
				return
			}
		}
	}); cerr != nil {
		return cerr
	}
	return err
}

// futimens sets an open file's times (utimensat(2) on the descriptor itself).
func futimens(f *os.File, atim, mtim int64) error {
	ts := [2]unix.Timespec{timespec(atim), timespec(mtim)}
	var err error
	rc, cerr := f.SyscallConn()
	if cerr != nil {
		return cerr
	}
	if cerr := rc.Control(func(fd uintptr) {
		// A NULL pathname makes utimensat act on fd itself (Linux).
		_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, fd, 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
		if e != 0 {
			err = e
		}
	}); cerr != nil {
		return cerr
	}
	return err
}

func timespec(ns int64) unix.Timespec {
	if ns == experimentalsys.UTIME_OMIT {
		return unix.Timespec{Nsec: unix.UTIME_OMIT}
	}
	return unix.NsecToTimespec(ns)
}
