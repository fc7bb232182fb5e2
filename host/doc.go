// Package host turns driver artifacts - WebAssembly modules (package host/wasmhost) and plugin
// binaries (package host/pluginhost) - into drivers of package store, described by manifests, so
// that an operator can drop a driver into a directory and an application that was never
// recompiled opens it by name:
//
//	if _, err := host.LoadEnv(ctx); err != nil { // every directory in $DOCKYARD_DRIVERS
//		log.Print(err)                           // the bad manifests; the good ones loaded
//	}
//	s, err := store.Open(ctx, "kv", "/var/lib/app/kv")
//
// A manifest is a small JSON file per driver: its name, transport, artifact, the artifact's
// sha256, the ABI version it speaks, sandbox limits and driver options. docs/manifest.md
// describes the format and every rule. ReadManifest parses and checks one, Manifest.Open opens
// a store on it without registering anything (Manifest.Prepare readies it for many), Inspect
// makes the manifest a bare artifact would have and OpenArtifact opens one, and LoadDir and
// LoadEnv register every driver of a directory. All of them take one path: manifest, verified
// artifact, transport, store.
//
// # Why the manifest pins a hash
//
// A drivers directory is where code that the application will run arrives, outside its build.
// The sha256 in the manifest is required, and checked before anything runs: a file replaced
// or corrupted after its manifest was written is refused, and the error shows the expected and
// the actual sum. A wasm module is compiled from the very bytes that were hashed, not read
// again; a plugin binary's sum is handed to the plugin transport, which checks it again when
// it starts the process, on the sealed copy that runs. The manifest also states the ABI major the
// artifact speaks, so an artifact built for another ABI is refused at load time, naming both
// versions, rather than at its first use.
//
// # Why errors and never panics
//
// store.Register panics on a duplicate name, which is right for compiled-in drivers (a
// programming error, found at start-up) and wrong for a file an operator dropped in a
// directory: a typo in a manifest must not take the application down. This package checks the
// registry before registering, and every problem with a manifest is a *ManifestError naming
// the file and the field, wrapping ErrBadManifest:
//
//	drivers/kv.json: field "sha256": artifact "kv.wasm" has sha256 9f86d0…, the manifest expects 2c26b4…
//
// One bad manifest does not keep the others of its directory from loading.
//
// # Why a loaded driver cannot be replaced
//
// The store registry has no way to remove or replace a driver, and stores already open on a
// driver keep running its code. So LoadDir is idempotent - loading a directory again skips
// the manifests it loaded before, unchanged, which lets an application poll a directory and
// pick up new drivers while it runs (examples/hotload) - but a manifest that changes the
// artifact or the settings of a loaded name is an error until the process restarts.
//
// # Transports
//
// This package runs no artifact itself: it hands each verified artifact to the transport
// registered for its kind (package host/artifact), and a transport registers itself when its
// package is imported, as database/sql drivers do. So a program links only the transports it
// imports - one that loads only wasm drivers does not link gRPC and go-plugin:
//
//	import (
//		"github.com/dockyard/dockyard/host"
//		_ "github.com/dockyard/dockyard/host/pluginhost" // plugin binaries
//		_ "github.com/dockyard/dockyard/host/wasmhost"   // WebAssembly modules
//	)
//
// An artifact whose transport is not linked fails to open with ErrTransportNotLinked, naming
// the package to import. A wasm driver is compiled once per load, and every store.Open of it
// instantiates that module afresh (each store its own sandbox); see host/wasmhost for the
// sandbox. A plugin driver starts its binary for each store; see host/pluginhost. Both log
// through the logger given by WithLogger.
package host
