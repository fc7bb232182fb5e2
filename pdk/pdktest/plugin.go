//go:build unix

package pdktest

import (
	"context"
	"testing"

	"github.com/dockyard/dockyard/host/pluginhost"
	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

// Binary is a driver's plugin form: its binary, and the options its stores open with.
type Binary struct {
	// Path is the binary's path, in the build cache.
	Path string
	opts []pluginhost.Option
}

// Plugin builds the main package pkg natively, as a go-plugin binary: the driver's plugin
// form. opts are those of every store opened from it, after the package's own default, a
// discarding logger.
func Plugin(t testing.TB, pkg string, opts ...pluginhost.Option) *Binary {
	t.Helper()
	return &Binary{
		Path: build(t, pkg, artifactbuild.BuildPlugin),
		opts: append([]pluginhost.Option{pluginhost.WithLogger(discard)}, opts...),
	}
}

// Open starts a plugin process of b's binary and opens a store on it, as pluginhost.Open does.
func (b *Binary) Open(ctx context.Context, dsn string) (store.Store, error) {
	return pluginhost.Open(ctx, b.Path, dsn, b.opts...)
}

// PluginHarness is the harness of pkg's plugin form (see Plugin), with the capabilities the
// driver declares: each store a process of its own, at a fresh DSN that dsn makes (nil: a
// fresh directory, the default DSN form), its Reopen (for a durable driver) a new process on
// the same DSN.
func PluginHarness(t testing.TB, pkg string, caps storetest.Capabilities, dsn func(storetest.T) string, opts ...pluginhost.Option) storetest.Harness {
	t.Helper()
	if dsn == nil {
		dsn = freshDir
	}
	return storetest.ByDSN(caps, dsn, Plugin(t, pkg, opts...).Open)
}
