package pluginhost

import (
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// Linux confines a plugin with its own mechanisms, applied by sandbox.apply to the one host
// thread that forks the plugin (procRunner.Start) and inherited by the plugin across fork and
// exec; the rest of the host is untouched, since both are per-thread attributes:
//
//   - no_new_privs: no setuid binary, file capability or LSM transition raises what the plugin
//     (or anything it executes) may do; Landlock requires it of an unprivileged thread anyway.
//   - Landlock (a ruleset the process cannot drop or widen): the filesystem beneath the
//     sandbox's read and write paths, its socket directory, /dev/null and /dev/urandom,
//     nothing else (the plugin's own binary runs from a sealed memory file, which Landlock does
//     not govern); execute on nothing but an interpreted plugin's interpreter and its dynamic
//     loader (execPaths); TCP connect to the sandbox's ports and bind to none (kernel ABI 4); no
//     signal to, and no abstract Unix socket of, a process outside the sandbox (ABI 6), so
//     the plugin can neither kill nor reach its host.
//
// Before the fork, every descriptor of the host is marked close-on-exec, so that one the host
// inherited without that flag does not reach the plugin. (Go opens every descriptor of its own
// with it; a program that means to pass a descriptor to a child passes it explicitly, as
// os/exec's ExtraFiles does, and dup2 clears the flag on the copy.)

// landlockABI is the kernel's Landlock ABI version, 0 without Landlock.
var landlockABI = sync.OnceValue(func() int {
	v, err := ll.LandlockGetABIVersion()
	if err != nil {
		return 0
	}
	return v
})

// The Landlock ABI versions that added what the sandbox uses.
const (
	abiFS     = 1 // filesystem access
	abiTCP    = 4 // TCP bind and connect
	abiScopes = 6 // signal and abstract Unix socket scoping
)

// gaps says what of the sandbox this kernel cannot enforce.
func (sb *sandbox) gaps() []string {
	v := landlockABI()
	var g []string
	if v < abiFS {
		g = append(g, "the filesystem (no Landlock in this kernel)")
	}
	if v < abiTCP {
		g = append(g, fmt.Sprintf("TCP (Landlock ABI %d, TCP rules need 4)", v))
	}
	if v < abiScopes {
		g = append(g, fmt.Sprintf("signals and abstract Unix sockets (Landlock ABI %d, scoping needs 6)", v))
	}
	return g
}

// apply confines the calling thread, which must be one no other goroutine runs on (see
// onOwnThread), as the plugin it is about to fork is to be confined.
func (sb *sandbox) apply() error {
	if g := sb.gaps(); len(g) > 0 && sb.require {
		return fmt.Errorf("%w: it needs Landlock ABI %d, this kernel has %d: uncontained would be %v", ErrUncontained, abiScopes, landlockABI(), g)
	}
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("marking the host's descriptors close-on-exec: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	v := landlockABI()
	if v < abiFS {
		return nil
	}
	fsAll := fsRights(v)
	attr := ll.RulesetAttr{HandledAccessFS: fsAll}
	if v >= abiTCP {
		attr.HandledAccessNet = ll.AccessNetBindTCP | ll.AccessNetConnectTCP
	}
	if v >= abiScopes {
		attr.Scoped = ll.ScopeSignal | ll.ScopeAbstractUnixSocket
	}
	rs, err := ll.LandlockCreateRuleset(&attr, 0)
	if err != nil {
		return fmt.Errorf("landlock ruleset: %w", err)
	}
	defer unix.Close(rs)
	rw := fsAll &^ ll.AccessFSExecute
	for _, r := range []struct {
		paths  []string
		access uint64
		must   bool // a missing path is an error (listed), or skipped (derived)
	}{
		{sb.read, ll.AccessFSReadFile | ll.AccessFSReadDir, true},
		{sb.exec, ll.AccessFSExecute | ll.AccessFSReadFile, true},
		{sb.write, rw, false},
		{[]string{sb.socketDir}, rw, true},
		{[]string{"/dev/null"}, ll.AccessFSReadFile | ll.AccessFSWriteFile, false},
		{[]string{"/dev/urandom"}, ll.AccessFSReadFile, false},
	} {
		for _, p := range r.paths {
			if err := addPath(rs, p, r.access); err != nil && (r.must || !os.IsNotExist(err)) {
				return err
			}
		}
	}
	for _, port := range sb.ports {
		if v < abiTCP {
			break
		}
		if err := ll.LandlockAddNetPortRule(rs, &ll.NetPortAttr{AllowedAccess: ll.AccessNetConnectTCP, Port: uint64(port)}, 0); err != nil {
			return fmt.Errorf("landlock rule for TCP port %d: %w", port, err)
		}
	}
	if err := ll.LandlockRestrictSelf(rs, 0); err != nil { // this thread only
		return fmt.Errorf("landlock: %w", err)
	}
	return nil
}

// fsRights are the filesystem rights Landlock ABI v handles.
func fsRights(v int) uint64 {
	r := uint64(ll.AccessFSMakeSym<<1 - 1) // ABI 1: execute .. make_sym
	if v >= 2 {
		r |= ll.AccessFSRefer
	}
	if v >= 3 {
		r |= ll.AccessFSTruncate
	}
	if v >= 5 {
		r |= ll.AccessFSIoctlDev
	}
	return r
}

// fileRights are the rights that apply to a file, not a directory.
const fileRights = ll.AccessFSExecute | ll.AccessFSWriteFile | ll.AccessFSReadFile | ll.AccessFSTruncate | ll.AccessFSIoctlDev

// addPath lets the sandbox reach path with access (only its file rights if path is a file).
func addPath(rs int, path string, access uint64) error {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "sandbox path", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &os.PathError{Op: "sandbox path", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		access &= fileRights
	}
	if err := ll.LandlockAddPathBeneathRule(rs, &ll.PathBeneathAttr{AllowedAccess: access, ParentFd: fd}, 0); err != nil {
		return fmt.Errorf("landlock rule for %s: %w", path, err)
	}
	return nil
}

// execPaths are the files an interpreted plugin must execute: the interpreter and, for a
// dynamically linked one, the ELF interpreter its PT_INTERP names (the dynamic loader, which the
// kernel opens for execution too), each with symbolic links resolved, since Landlock grants
// the file a path leads to. The shared libraries the loader then maps are only read, so they
// are the manifest's "read" paths: which ones it loads is the loader's decision at run time
// (its cache, RUNPATH, dlopen), which the host cannot predict without being the loader.
func execPaths(interpreter string) ([]string, error) {
	f, err := elf.Open(interpreter)
	if err != nil {
		return nil, fmt.Errorf("%s is not an ELF program (a script's own interpreter could not be executed in the sandbox): %w", interpreter, err)
	}
	defer f.Close()
	paths := []string{interpreter}
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(p.Open(), 4096))
		if err != nil {
			return nil, fmt.Errorf("%s: PT_INTERP: %w", interpreter, err)
		}
		paths = append(paths, strings.TrimRight(string(b), "\x00"))
	}
	for i, p := range paths {
		r, err := filepath.EvalSymlinks(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", interpreter, err)
		}
		paths[i] = r
	}
	return paths, nil
}

func isMainThread() bool { return unix.Gettid() == unix.Getpid() }

// confined reports whether plugins' files and network are confined on this host.
func confined() bool { return landlockABI() >= abiFS }
