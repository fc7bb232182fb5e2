//go:build unix

package pdktest_test

import (
	"testing"

	"github.com/dockyard/dockyard/pdk/pdktest"
	"github.com/dockyard/dockyard/storetest"
)

// TestPluginHarness runs the suite on plugins/inmem's plugin form: a process per store.
func TestPluginHarness(t *testing.T) {
	t.Parallel()
	storetest.Run(t, pdktest.PluginHarness(t, "github.com/dockyard/dockyard/plugins/inmem", storetest.Capabilities{ConcurrentReaders: true}, nil))
}

// TestPluginHarnessDurable runs the suite on plugins/buntdb's plugin form, each store in a
// fresh directory (the default DSN), its Reopen a new process on the same one.
func TestPluginHarnessDurable(t *testing.T) {
	t.Parallel()
	storetest.Run(t, pdktest.PluginHarness(t, "../../plugins/buntdb", storetest.Capabilities{Durable: true}, nil))
}

// TestCrashPlugin kills a child whose store is a plugin process of plugins/buntdb: the plugin
// dies with it, and the reopened store keeps every acknowledged commit.
func TestCrashPlugin(t *testing.T) {
	t.Parallel()
	pdktest.CrashTest(t, 3, pdktest.Plugin(t, "../../plugins/buntdb").Open)
}
