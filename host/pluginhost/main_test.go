//go:build unix

package pluginhost

import (
	"os"
	"testing"

	"github.com/dockyard/dockyard/internal/etcdtest"
	"github.com/dockyard/dockyard/internal/pgtest"
)

// TestMain runs the tests, then stops the test servers that were started for them: the
// PostgreSQL server (TestConformancePostgres) and the etcd cluster (TestConformanceEtcd).
func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Shutdown()
	etcdtest.Shutdown()
	os.Exit(code)
}
