//go:build unix

package pluginhost

import (
	"errors"
	"fmt"
	"github.com/dockyard/dockyard/host/artifact"
	"os"
	"path/filepath"
	"strings"
)

// ErrUncontained is wrapped by the error of a start refused because this host cannot confine
// the plugin as its configuration requires (WithRequireContainment).
var ErrUncontained = errors.New("the plugin cannot be contained on this host")

// sandbox is what a plugin process may reach (see sandbox_linux.go for how it is enforced, and
// docs/manifest.md for what it means per platform): the files beneath read and write (write
// includes reading, creating and removing; neither includes executing), the directory where
// go-plugin's socket is made, and TCP connections to ports.
type sandbox struct {
	read, write []string // absolute paths
	exec        []string // files it may execute: an interpreter and its dynamic loader
	ports       []uint16
	require     bool // refuse to start a plugin that cannot be fully contained
	socketDir   string
	limits      rlimits
}

// newSandbox builds a plugin's sandbox from its options and the data path of its DSN.
func newSandbox(cfg config, dsn string) (*sandbox, error) {
	sb := &sandbox{require: cfg.requireContainment, limits: cfg.limits.rlimits()}
	if cfg.interpreter != "" {
		exec, err := execPaths(cfg.interpreter)
		if err != nil {
			return nil, fmt.Errorf("interpreter: %w", err)
		}
		sb.exec = exec
	}
	for _, p := range cfg.readPaths {
		abs, err := absPath(p)
		if err != nil {
			return nil, fmt.Errorf("read path %q: %w", p, err)
		}
		sb.read = append(sb.read, abs)
	}
	for _, p := range append(cfg.writePaths, dataPath(dsn)...) {
		abs, err := absPath(p)
		if err != nil {
			return nil, fmt.Errorf("write path %q: %w", p, err)
		}
		sb.write = append(sb.write, abs)
	}
	for _, ep := range cfg.connect {
		port, err := artifact.EndpointPort(ep)
		if err != nil {
			return nil, fmt.Errorf("connect endpoint %q: %w", ep, err)
		}
		sb.ports = append(sb.ports, port)
	}
	return sb, nil
}

func (sb *sandbox) withSocketDir(dir string) *sandbox {
	c := *sb
	c.socketDir = dir
	return &c
}

func absPath(p string) (string, error) {
	if p == "" || strings.ContainsRune(p, 0) {
		return "", errors.New("not a path")
	}
	return filepath.Abs(p)
}

// dataPath returns where a plugin keeps its data, from its DSN, as the path its sandbox lets
// it write: a DSN that names an existing directory is that directory; one that names a file
// (existing or not, with an optional "file:" prefix and "?query" suffix, as SQLite takes it)
// is the file's directory, so that the journal and lock files beside it can be made too. A
// DSN that is empty, a URL ("postgres://…") or ":memory:" names no path.
func dataPath(dsn string) []string {
	p := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if p == "" || p == ":memory:" || strings.Contains(dsn, "://") || strings.ContainsRune(p, 0) {
		return nil
	}
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		return []string{p}
	}
	return []string{filepath.Dir(p)}
}

// hint says, after an error the plugin reports as a permission refused, what its sandbox lets
// it reach: the refusal is most likely the sandbox's, which the plugin cannot tell apart from
// any other.
func (sb *sandbox) hint(err error) string {
	if !strings.Contains(err.Error(), "permission denied") || !confined() {
		return ""
	}
	return fmt.Sprintf(" (the plugin's sandbox lets it connect by TCP to ports %v only, and write only beneath %q: see WithConnect, WithWritePaths, docs/manifest.md)",
		sb.ports, sb.write)
}
