// Package ctest tests the C driver kit (pdk/c) and the C driver built on it (plugins/cinmem).
// It holds only tests: the C sources live in directories without Go files, and the tests build
// them with clang for wasm32-wasi through internal/artifactbuild (cached by a hash of the sources
// and flags), so they never depend on `make cwasm` having run.
//
//   - conformance: storetest.Run against plugins/cinmem served through host/wasmhost;
//   - frames: raw request frames sent straight to the module's exports (a small wazero harness
//     here), checking every refusal of docs/abi.md, the worked example byte for byte, and the
//     buffer rules of the WebAssembly binding;
//   - differential: random batches sent both to the C module and to the Go dispatcher serving
//     drivers/inmem, whose answers must agree result for result;
//   - hostile: a C module that breaks the ABI on purpose (responses outside memory, unknown
//     statuses, truncated frames, traps), which host/wasmhost must report clearly and survive;
//   - fuzz: the runtime and cinmem built natively with libFuzzer, AddressSanitizer and
//     UndefinedBehaviorSanitizer, run over mutated frames.
//
// Without clang for wasm32-wasi the tests end through testenv.Unavailable: a loud skip locally,
// a failure under CI=true. `make tools` installs it.
package ctest
