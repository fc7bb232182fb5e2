//go:build !wasip1

package wasmnet

// Outside a wasm guest there is no host network: every function fails with errNotWasm, which
// the package reports as ErrNotWasm. The package builds, so that a driver using it cross-builds
// and its tests compile for the host's platform.

func hostConnect(string, int64) int32      { return errNotWasm }
func hostRead(int32, []byte, int64) int32  { return errNotWasm }
func hostWrite(int32, []byte, int64) int32 { return errNotWasm }
func hostClose(int32) int32                { return errNotWasm }
func hostLastError() string                { return "" }
