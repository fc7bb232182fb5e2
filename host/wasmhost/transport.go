package wasmhost

import (
	"context"
	"errors"
	"fmt"
	"github.com/dockyard/dockyard/internal/rootfs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/dockyard/dockyard/store"
)

// transport is the abi.RoundTripper of one store: it owns at most one live instance of the
// module at a time, created on first use and after a discard, and runs one call at a time.
type transport struct {
	m    *Module
	name string

	dsn   string   // the server DSN handed to the guest (WithServerDSN), "" for none
	dir   string   // the host data directory, "" for none
	root  *os.Root // the data directory, nil for none
	lock  *dirLock
	quota *rootfs.Quota // of the data directory, nil for none
	// readOnly: the store was opened read-only (the directory must exist; nothing creates it).
	readOnly bool

	stdout, stderr *lineWriter

	mu     sync.Mutex // serializes calls; guards everything below
	closed bool
	inst   *instance // nil when there is no live instance
	stack  [1]uint64

	bufferCalls uint64 // calls of dockyard_buffer, for tests
}

func newTransport(m *Module, dsn string, readOnly bool) (_ *transport, err error) {
	t := &transport{
		m:      m,
		name:   m.cfg.name,
		stdout: newLineWriter(m.cfg.logger, slog.LevelInfo, m.cfg.name, "stdout"),
		stderr: newLineWriter(m.cfg.logger, slog.LevelWarn, m.cfg.name, "stderr"),
	}
	if dsn == "" {
		return t, nil
	}
	if m.cfg.serverDSN { // the guest's own business: nothing on the host's filesystem
		t.dsn = dsn
		return t, nil
	}
	if t.dir, err = filepath.Abs(dsn); err != nil {
		return nil, fmt.Errorf("wasmhost: data directory %q: %w", dsn, err)
	}
	if err := noSymlinks(t.dir); err != nil {
		return nil, err
	}
	t.readOnly = readOnly
	if readOnly {
		if fi, err := os.Stat(t.dir); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("wasmhost: data directory %s: %w: no such directory (a read-only open creates nothing)", t.dir, store.ErrNoStore)
		}
	} else if err := os.MkdirAll(t.dir, 0o750); err != nil {
		return nil, fmt.Errorf("wasmhost: create data directory: %w", err)
	}
	if t.lock, err = lockDir(t.dir); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			t.lock.release()
		}
	}()
	if t.root, err = os.OpenRoot(t.dir); err != nil {
		return nil, fmt.Errorf("wasmhost: open data directory: %w", err)
	}
	// The lock must be on the directory the guest gets, even if the path was swapped between.
	fi1, err1 := t.lock.f.Stat()
	fi2, err2 := t.root.Stat(".")
	if err := errors.Join(err1, err2); err != nil || !os.SameFile(fi1, fi2) {
		t.root.Close()
		return nil, fmt.Errorf("wasmhost: data directory %s changed while it was being opened", t.dir)
	}
	t.quota = rootfs.NewQuota(t.root, m.cfg.diskQuota, m.cfg.logger, t.name)
	return t, nil
}

// RoundTrip sends one request frame to the instance and returns a copy of its response. A
// failure of the instance is an *InstanceError wrapping abi.ErrBroken, after which the next
// RoundTrip gets a fresh instance.
//
// The call runs to completion or to its deadline: the caller's ctx is checked before the call
// but does not interrupt it, since stopping a guest mid-call destroys its instance and, for a
// driver that is not durable, its data. Nor do the caller's context values reach the guest's
// host functions.
func (t *transport) RoundTrip(ctx context.Context, req []byte) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, fmt.Errorf("wasm module %q: %w", t.name, store.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if uint64(len(req)) > math.MaxUint32 {
		return nil, fmt.Errorf("wasm module %q: request of %d bytes does not fit a wasm32 memory", t.name, len(req))
	}
	if t.inst == nil {
		inst, err := t.instantiate()
		if err != nil {
			return nil, err
		}
		t.inst = inst
	}
	return t.call(req)
}

// close closes the instance, the data directory and its lock. It is idempotent.
func (t *transport) close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	var errs []error
	if t.inst != nil {
		errs = append(errs, t.inst.close())
		t.inst = nil
	}
	t.stdout.Flush()
	t.stderr.Flush()
	if t.root != nil {
		errs = append(errs, t.root.Close())
	}
	errs = append(errs, t.lock.release())
	return errors.Join(errs...)
}

// noSymlinks refuses a data directory whose path runs through a symbolic link. A guest can
// create links in its own data directory; a later store whose DSN runs through one would mount
// whatever the link points at (the host's /etc, say). Only existing components are checked;
// what does not exist yet is created as directories.
func noSymlinks(dir string) error {
	for p := dir; ; {
		fi, err := os.Lstat(p)
		if err == nil && fi.Mode()&os.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			return fmt.Errorf("wasmhost: data directory %s: its path runs through the symbolic link %s (to %q), which a guest may have planted: give the path without links", dir, p, target)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return nil
		}
		p = parent
	}
}
