//go:build linux

package pluginhost

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/host/artifact"
	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/internal/testenv"
	"github.com/dockyard/dockyard/store"
)

// nodeBundle returns node's path and the bundle of plugins/nodeinmem, the Node.js plugin.
func nodeBundle(t *testing.T) (node, bundle string) {
	t.Helper()
	node = testenv.LookPath(t, "node")
	bundle, err := artifactbuild.BuildNode("../../plugins/nodeinmem/plugin.js")
	if errors.Is(err, artifactbuild.ErrNoNodeModules) {
		testenv.Unavailable(t, "plugins/nodeinmem/node_modules", err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	return node, bundle
}

// nodeReads are the paths node reads as it starts, for WithReadPaths: its shared libraries
// (where Debian and its derivatives keep them), the dynamic loader's cache and OpenSSL's
// configuration, without which node refuses to start.
func nodeReads() []string {
	var paths []string
	for _, p := range []string{"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/etc/ld.so.cache", "/etc/ssl/openssl.cnf"} {
		if _, err := os.Stat(p); err == nil {
			paths = append(paths, p)
		}
	}
	return paths
}

// nodeOptions is the environment node needs to run a sealed artifact: it resolves the main
// script's symbolic links, and /proc/self/fd/3, a memory file's, leads to no file.
const nodeOptions = "NODE_OPTIONS=--preserve-symlinks-main"

// TestNodePlugin: an interpreted plugin, the Node.js bundle run by node, serves a store.
func TestNodePlugin(t *testing.T) {
	node, bundle := nodeBundle(t)
	ctx := context.Background()
	s, err := Open(ctx, bundle, "", WithInterpreter(node), WithReadPaths(nodeReads()...), WithEnv(nodeOptions))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx store.Tx) error {
		v, err := tx.Get("ns", "k")
		if err == nil && string(v) != "v" {
			t.Errorf("got %q", v)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNodeSandbox: an interpreted plugin runs confined as a binary does: node can read its
// read paths and its own sealed artifact, not a file beside them, and can execute nothing but
// itself and its dynamic loader.
func TestNodeSandbox(t *testing.T) {
	needContainment(t)
	node := testenv.LookPath(t, "node")
	dir, allowedDir := t.TempDir(), t.TempDir()
	secret, allowed := filepath.Join(dir, "secret"), filepath.Join(allowedDir, "allowed")
	for _, p := range []string{secret, allowed} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	probe, err := filepath.Abs("testdata/nodeprobe/probe.js")
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewDriver(context.Background(), probe, "", WithInterpreter(node),
		WithReadPaths(append(nodeReads(), allowedDir)...), WithEnv(nodeOptions, "PROBE_SECRET="+secret, "PROBE_ALLOWED="+allowed))
	if !errors.Is(err, ErrStart) {
		t.Fatalf("the probe exits before its handshake: want ErrStart, got %v", err)
	}
	for _, want := range []string{"probe secret: EACCES", "probe allowed: ok", "probe exec: EACCES", "probe self: ok"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the probe's stderr lacks %q: %v", want, err)
		}
	}
}

// TestInterpreterRefused: a relative, missing or non-executable interpreter is refused
// before anything starts, naming it.
func TestInterpreterRefused(t *testing.T) {
	bundle := filepath.Join(t.TempDir(), "plugin.js")
	if err := os.WriteFile(bundle, []byte("process.exit(1)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, interp := range []string{"node", "/nonexistent/node", bundle} {
		_, err := NewDriver(context.Background(), bundle, "", WithInterpreter(interp))
		if !errors.Is(err, ErrStart) || !strings.Contains(err.Error(), "interpreter") {
			t.Errorf("interpreter %q: %v", interp, err)
		}
	}
}

// TestNodePluginReadOnly: the Node.js plugin speaks ABI 1.1, so a read-only open of it is
// refused as one the driver cannot make (it answers HELLO_READONLY with BAD_FRAME, having
// opened nothing), and the refusal does not break the plugin for an ordinary open after it.
func TestNodePluginReadOnly(t *testing.T) {
	node, bundle := nodeBundle(t)
	ctx := context.Background()
	opts := []Option{WithInterpreter(node), WithReadPaths(nodeReads()...), WithEnv(nodeOptions)}
	if s, err := Open(artifact.WithReadOnly(ctx), bundle, "", opts...); !errors.Is(err, store.ErrReadOnlyUnsupported) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("read-only Open of a 1.1 plugin = %v, want ErrReadOnlyUnsupported", err)
	}
	s, err := Open(ctx, bundle, "", opts...)
	if err != nil {
		t.Fatalf("Open after the refused read-only open: %v", err)
	}
	s.Close()
}
