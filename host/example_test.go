package host_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/dockyard/dockyard/host"
	_ "github.com/dockyard/dockyard/host/wasmhost" // the wasm transport, for the example
)

// LoadDir registers every good manifest of a directory and reports each bad one with its file
// and field. Here the artifact is not the one the manifest pins, so nothing runs.
func ExampleLoadDir() {
	dir, _ := os.MkdirTemp("", "drivers")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "kv.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	os.WriteFile(filepath.Join(dir, "kv.json"), []byte(`{
  "name": "example-kv",
  "transport": "wasm",
  "artifact": "kv.wasm",
  "sha256": "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
  "abi": "1.0",
  "sandbox": {"memory_limit": "64MiB", "call_timeout": "5s"}
}`), 0o644)

	ctx := context.Background()
	loaded, err := host.LoadDir(ctx, dir, host.WithLogger(slog.New(slog.DiscardHandler)))
	fmt.Println("loaded:", len(loaded))
	var me *host.ManifestError
	if errors.As(err, &me) {
		fmt.Printf("%s: field %q\n", filepath.Base(me.Path), me.Field)
	}
	fmt.Println("bad manifest:", errors.Is(err, host.ErrBadManifest))
	fmt.Println("checksum mismatch:", errors.Is(err, host.ErrChecksumMismatch))
	// With the right artifact, the driver would now open by name:
	//	s, err := store.Open(ctx, "example-kv", "/var/lib/app/kv")

	// Output:
	// loaded: 0
	// kv.json: field "sha256"
	// bad manifest: true
	// checksum mismatch: true
}
