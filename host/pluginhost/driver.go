//go:build unix

package pluginhost

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dockyard/dockyard/host/artifact"
	"github.com/dockyard/dockyard/internal/regfile"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/store"
)

// Open starts the plugin binary at path and returns a store on the driver it serves, opened
// with dsn. Close stops the plugin.
func Open(ctx context.Context, path, dsn string, opts ...Option) (store.Store, error) {
	d, err := NewDriver(ctx, path, dsn, opts...)
	if err != nil {
		return nil, err
	}
	if artifact.ReadOnly(ctx) {
		return pdk.NewStore(d, pdk.WithReadOnly()), nil
	}
	return pdk.NewStore(d), nil
}

// NewDriver is Open without the pdk adapter: the ABI client over the plugin, as a pdk.Driver.
func NewDriver(ctx context.Context, path, dsn string, opts ...Option) (pdk.Driver, error) {
	cfg := resolve(filepath.Base(path), opts)
	sum, err := checkBinary(path, cfg.checksum, cfg.interpreter)
	if err != nil {
		return nil, fmt.Errorf("%w: plugin %q: %w", ErrStart, cfg.name, err)
	}
	sb, err := newSandbox(cfg, dsn)
	if err != nil {
		return nil, fmt.Errorf("%w: plugin %q: sandbox: %w", ErrStart, cfg.name, err)
	}
	if g := sb.gaps(); len(g) > 0 && !sb.require {
		cfg.logger.Warn("plugin not contained entirely: this host cannot confine it", "plugin", cfg.name, "uncontained", g)
	}
	t := &transport{path: path, sum: sum, cfg: cfg, sandbox: sb, logs: newLogLimit()}
	// The start timeout bounds the whole start, the ABI's HELLO included.
	sctx, cancel := context.WithDeadlineCause(ctx, time.Now().Add(cfg.startTimeout), errHelloTimeout)
	defer cancel()
	if _, err := t.live(ctx); err != nil { // start now, so a start failure is the error as is
		return nil, err
	}
	copts := []abi.ClientOption{abi.WithDriverName(cfg.name)}
	if cfg.acceptLoss {
		copts = append(copts, abi.WithAcceptLoss())
	}
	hello := abi.Hello{DSN: dsn, Options: cfg.driverOpts, ReadOnly: artifact.ReadOnly(ctx)}
	client, err := abi.NewClient(sctx, t, hello, copts...)
	if err != nil {
		_ = t.close()
		switch {
		case errors.Is(err, ErrStart):
			return nil, err
		case ctx.Err() == nil && errors.Is(context.Cause(sctx), errHelloTimeout):
			return nil, fmt.Errorf("%w: plugin %q (%s) did not answer the ABI handshake (HELLO) within the start timeout of %v: %w",
				ErrStart, cfg.name, path, cfg.startTimeout, err)
		}
		return nil, fmt.Errorf("pluginhost: plugin %q: %w%s", cfg.name, err, sb.hint(err))
	}
	return &driver{Driver: client, t: t}, nil
}

var errHelloTimeout = errors.New("start timeout")

// MaxBinarySize is the largest plugin binary hashed, 1 GiB: a Go plugin is tens of megabytes,
// and a larger file (a sparse file, say) is refused from its size instead of read.
const MaxBinarySize = 1 << 30

// checkBinary checks path is an executable regular file (or, run by an interpreter, a regular
// file and the interpreter an executable one) and returns the checksum to pin: want if given
// (checked at each start), else the file's SHA-256 now.
func checkBinary(path string, want []byte, interpreter string) ([]byte, error) {
	if interpreter != "" {
		if err := checkInterpreter(interpreter); err != nil {
			return nil, err
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("binary: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("binary %s: not a regular file (%s)", path, st.Mode().Type())
	}
	if interpreter == "" && st.Mode().Perm()&0o111 == 0 {
		return nil, fmt.Errorf("binary %s: %w (mode %s)", path, errNotExecutable, st.Mode().Perm())
	}
	if len(want) > 0 {
		if len(want) != sha256.Size {
			return nil, fmt.Errorf("checksum of %d bytes: a SHA-256 has %d", len(want), sha256.Size)
		}
		return want, nil
	}
	sum, err := regfile.SHA256(path, MaxBinarySize)
	if err != nil {
		return nil, fmt.Errorf("binary: %w", err)
	}
	return sum, nil
}

// checkInterpreter checks the interpreter is named by an absolute path (it is never looked up
// in PATH: a plugin's environment has none) and is an executable regular file.
func checkInterpreter(p string) error {
	if !filepath.IsAbs(p) {
		return fmt.Errorf("interpreter %q: not an absolute path", p)
	}
	st, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("interpreter: %w", err)
	}
	if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("interpreter %s: %w (mode %s)", p, errNotExecutable, st.Mode())
	}
	return nil
}

// driver is the ABI client over a transport; closing it ends the session (the plugin's driver
// closes), then stops the process.
type driver struct {
	pdk.Driver
	t *transport

	closeOnce sync.Once
	closeErr  error
}

func (d *driver) Close() error {
	d.closeOnce.Do(func() {
		d.closeErr = errors.Join(d.Driver.Close(), d.t.close())
	})
	return d.closeErr
}

// Guest returns the plugin's answer to the ABI handshake (HELLO): the ABI version it speaks and
// what its driver declares. host.Prepared.Handshake reports it.
func (d *driver) Guest() abi.HelloReply {
	if c, ok := d.Driver.(interface{ Guest() abi.HelloReply }); ok {
		return c.Guest()
	}
	return abi.HelloReply{}
}

// TransportStats implements pdk.StatsReporter: the ABI client's counters and the process's
// (its PID, how many were started, log records dropped).
func (d *driver) TransportStats() (pdk.TransportStats, bool) {
	var s pdk.TransportStats
	if r, ok := d.Driver.(pdk.StatsReporter); ok {
		s, _ = r.TransportStats()
	}
	s.PID = d.t.pid()
	s.LogsDropped = d.t.logs.total.Load()
	d.t.mu.Lock()
	s.Starts = d.t.starts
	d.t.mu.Unlock()
	return s, true
}
