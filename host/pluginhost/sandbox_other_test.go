//go:build unix && !linux

package pluginhost

import (
	"runtime"
	"testing"

	"github.com/dockyard/dockyard/internal/testenv"
)

func needContainment(t testing.TB) {
	t.Helper()
	testenv.Unavailable(t, "plugin containment", "none on "+runtime.GOOS)
}
