// The tests play a driver of another module: they use only this package's API and storetest,
// on the artifacts of plugins/, named as an outside module names its own main packages.
package pdktest_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/pdk/pdktest"
	"github.com/dockyard/dockyard/storetest"
)

// TestWasmHarness runs the suite on plugins/inmem's wasm form, named by its directory.
func TestWasmHarness(t *testing.T) {
	t.Parallel()
	storetest.Run(t, pdktest.WasmHarness(t, "../../plugins/inmem", storetest.Capabilities{ConcurrentReaders: true}))
}

// TestWasmHarnessDurable runs the suite on plugins/buntdb's wasm form, named by its import
// path: a durable driver, whose Reopen is a fresh instance on the same directory.
func TestWasmHarnessDurable(t *testing.T) {
	t.Parallel()
	storetest.Run(t, pdktest.WasmHarness(t, "github.com/dockyard/dockyard/plugins/buntdb", storetest.Capabilities{Durable: true}))
}

// TestCrashWasm kills a child writing to plugins/buntdb's wasm form: its files, written through
// the sandbox's filesystem, keep every acknowledged commit.
func TestCrashWasm(t *testing.T) {
	t.Parallel()
	pdktest.CrashTest(t, 3, pdktest.Wasm(t, "../../plugins/buntdb").Open)
}

// TestCrashCatchesLoss: CrashTest of a driver that is not durable (plugins/inmem, whose data
// dies with its instance) fails, saying what was lost. The failing test runs in a test binary
// of its own, which lossEnv tells to run it.
func TestCrashCatchesLoss(t *testing.T) {
	if os.Getenv(lossEnv) != "" {
		pdktest.CrashTest(t, 1, pdktest.Wasm(t, "../../plugins/inmem").Open)
		return
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashCatchesLoss$", "-test.count=1")
	cmd.Env = append(os.Environ(), lossEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "was acknowledged but the store's counter is 0") {
		t.Fatalf("CrashTest of a driver that loses its data: %v\n%s", err, out)
	}
}

const lossEnv = "PDKTEST_TEST_LOSSY"

// TestNotAPackage: a package that does not exist fails the test, saying what go list said.
func TestNotAPackage(t *testing.T) {
	var ft fakeT
	func() {
		defer func() { _ = recover() }()
		pdktest.Wasm(&ft, "example.invalid/no/such/package")
	}()
	if !ft.failed {
		t.Fatal("Wasm of a package that does not exist did not fail the test")
	}
	t.Logf("failed with: %s", ft.msg)
}

// fakeT records a Fatalf and stops the caller, as testing.T's does, by a panic.
type fakeT struct {
	testing.TB
	failed bool
	msg    string
}

func (*fakeT) Helper() {}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
	panic("fatal")
}
