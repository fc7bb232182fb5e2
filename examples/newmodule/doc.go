// Package newmodule holds one test, the proof that Dockyard can be used the way README.md says
// from a module of its own: it has no code of its own to import.
//
// Every other example lives inside this module, where nothing tells a missing import path, an
// unexported name or an undocumented step from one the example found by reading the source.
// The test writes, in a temporary directory, a new module (example.com/newapp, requiring this
// one through a replace directive) whose main.go is what a new user writes from README.md: the
// in-process drivers imported for their side effect, host/autoload imported likewise, and for
// each DRIVER:DSN string of its command line store.OpenDSN, Migrate, Update, View and Close; no
// import of package host or of a transport. It builds that module with the go command (no
// download: GOPROXY=off), writes a drivers directory with one manifest per artifact as
// docs/manifest.md describes it (plugins/inmem as a wasm module, plugins/sqlite as a plugin
// binary), and runs the program with DOCKYARD_DRIVERS on sqlite, the wasm driver, the plugin
// driver and PostgreSQL (internal/pgtest's server), one string each. It checks too that a
// mistyped driver name and a string with no ':' fail with messages that say what to write.
//
// It is the "done when" of issue 15.
package newmodule
