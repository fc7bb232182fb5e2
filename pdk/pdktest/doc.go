// Package pdktest runs a Go driver's conformance suite (storetest) on the forms it ships in,
// and its crash test, from the driver's own module: the test machinery this repository's
// drivers use, made public, so that a driver written elsewhere does not rewrite it.
//
// A driver's artifact is a main package that serves it with pdk/wasmguest (built for wasip1)
// and with pdk/pluginguest (built natively), as plugins/inmem does. Its tests build that
// package and open it through the real transports, host/wasmhost and host/pluginhost, exactly
// as an application loading the artifact would:
//
//	func TestWasm(t *testing.T) {
//		storetest.Run(t, pdktest.WasmHarness(t, "./cmd/mydriver", storetest.Capabilities{Durable: true}))
//	}
//
//	func TestPlugin(t *testing.T) {
//		storetest.Run(t, pdktest.PluginHarness(t, "./cmd/mydriver", storetest.Capabilities{Durable: true}, nil))
//	}
//
//	func TestCrashWasm(t *testing.T) { pdktest.CrashTest(t, 0, pdktest.Wasm(t, "./cmd/mydriver").Open) }
//
// The builds are those of `make wasm` and `make plugins` (internal/artifactbuild: -trimpath,
// cgo off, -buildmode=c-shared for wasip1) and are cached by a hash of the sources, so a test
// binary run again, or a package beside it, does not build again. The package argument is a
// directory ("./cmd/mydriver", "../plugins/x", absolute) or an import path, as the go command
// takes them.
//
// The transports log through a logger that discards by default, as the suite provokes the
// failures they warn about; pass WithLogger to see what a guest logs. The plugin form is for
// Unix only, as host/pluginhost is.
package pdktest
