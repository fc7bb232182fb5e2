//go:build unix

package pdktest_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/dockyard/dockyard/pdk/pdktest"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

// The suite on a driver's plugin form, whose DSN is a file (a nil dsn would give each store a
// fresh directory).
func ExamplePluginHarness() {
	_ = func(t *testing.T) {
		file := func(t storetest.T) string { return filepath.Join(t.TempDir(), "store.db") }
		storetest.Run(t, pdktest.PluginHarness(t, "./cmd/mydriver", storetest.Capabilities{Durable: true}, file))
	}
}

// The crash test of a plugin form: the plugin process dies with the child that started it.
func ExamplePlugin() {
	_ = func(t *testing.T) {
		bin := pdktest.Plugin(t, "./cmd/mydriver")
		pdktest.CrashTest(t, 0, func(ctx context.Context, dir string) (store.Store, error) {
			return bin.Open(ctx, filepath.Join(dir, "store.db"))
		})
	}
}
