package pdktest_test

import (
	"testing"

	"github.com/dockyard/dockyard/pdk/pdktest"
	"github.com/dockyard/dockyard/storetest"
)

// A driver's module runs the suite on its wasm form with one line; "./cmd/mydriver" is the main
// package that calls wasmguest.Serve (the function stands for the driver's TestWasm).
func ExampleWasmHarness() {
	_ = func(t *testing.T) {
		storetest.Run(t, pdktest.WasmHarness(t, "./cmd/mydriver", storetest.Capabilities{Durable: true}))
	}
}

// The crash test of a durable driver's wasm form: a child process writing through the module,
// killed with SIGKILL, and every acknowledged commit found after it.
func ExampleCrashTest() {
	_ = func(t *testing.T) {
		pdktest.CrashTest(t, 0, pdktest.Wasm(t, "./cmd/mydriver").Open)
	}
}
