// Command dockyard inspects, checks, copies and benchmarks Dockyard stores and drivers.
//
// Drivers are the compiled-in ones (inmem, sqlite, buntdb, postgres, etcd) and those loaded by
// package host from driver directories (a manifest beside a .wasm module or a plugin binary,
// see docs/manifest.md): every directory in $DOCKYARD_DRIVERS (a path list), then every
// --drivers DIR. Wherever a command takes a driver it also takes a manifest (*.json) or a bare
// artifact (a path), opened without registering anything.
//
// # Naming a store
//
// A command on one store takes it as --driver NAME --dsn DSN, or as one string, --store
// DRIVER:DSN, split at the first ':' by store.SplitDSN, the parser of an application's
// store.OpenDSN (sqlite:./data/app.db, inmem:, postgres:postgres://app@db/app,
// etcd:etcd://h1:2379,h2:2379/app, ./drivers/kv.json:/var/lib/kv). Given neither, it takes
// $DOCKYARD_STORE, in the same form. copy takes its --from and --to so, and drivers --dsn
// NAME:DSN as well as NAME=DSN. A malformed string is a usage error naming where it came from.
// Each driver's DSN form (empty, file, dir, server) is the driver's own declaration, or its
// manifest's dsn_form, and drivers shows it.
//
// # Commands
//
//	dockyard drivers [--json] [--dsn NAME=DSN]
//	    every driver available: transport (in-process, wasm, plugin), DSN form, version, ABI
//	    version and sha256 of artifacts, and the capabilities the driver declares (durable,
//	    concurrent readers, size limits), read from a store opened on a throwaway DSN;
//	    postgres and etcd, which need a server, only with --dsn NAME=DSN ("-" otherwise).
//	dockyard conform <name | manifest.json | artifact> [--run RE] [--json] [--timeout D] [--call-timeout D] [--dsn DSN]
//	    the storetest conformance suite, outside go test: a PASS/FAIL line per case with
//	    its duration (and its log when it fails), then "N passed, M failed". Each store gets
//	    a fresh DSN of the form the driver or its manifest declares ("" for inmem, a file
//	    for sqlite, a directory for buntdb and artifacts declaring none, under --dsn-dir). A driver whose DSN names a server gets its stores on the --dsn server,
//	    removed afterwards, as the DSN's form says: a table of its own on a PostgreSQL
//	    server (postgres://..., or key=value), a key prefix of its own under the prefix of
//	    an etcd cluster (etcd://host:port,.../prefix); for an artifact, --dsn says its DSN
//	    names a server. --call-timeout replaces the deadline of each call into a wasm or
//	    plugin driver (its manifest's sandbox.call_timeout, 30s by default).
//	dockyard manifest write ARTIFACT [--name N] [--dsn-form F | --dsn DSN] [--options JSON] [-o PATH] [--force] [--json]
//	    writes the manifest of a .wasm module or plugin binary, beside it as NAME.json by
//	    default: its transport (told from the file), its sha256, and the ABI version the
//	    artifact reports in its own handshake (its driver opened once on a throwaway DSN
//	    of --dsn-form, or on --dsn), and --dsn-form as its dsn_form.
//	dockyard manifest update MANIFEST... [--json]
//	    sets each manifest's sha256 to its rebuilt artifact's, changing nothing else
//	    ("old -> new").
//	dockyard manifest verify DIR [--json]
//	    checks every manifest of a drivers directory as host.LoadDir would (fields, ABI,
//	    options, artifact, sha256, wasm compilation, names declared twice), registering
//	    nothing: OK or BAD per manifest; exit 1 if any is bad.
//	dockyard get|put|delete|scan|namespaces --driver NAME --dsn DSN ...
//	    (or --store DRIVER:DSN, or $DOCKYARD_STORE, for every command on one store)
//	    read and edit a store, binary-safe (see below). get, scan and namespaces (and
//	    migrations, and copy's source) only read: a file or directory store must exist
//	    already, and a missing one is an error, not a new empty store.
//	dockyard migrations --driver NAME --dsn DSN [--json]     (or --store, $DOCKYARD_STORE)
//	    the applied migrations: ordinal, ID, applied_at.
//	dockyard copy --from DRIVER:DSN --to DRIVER:DSN [--batch N] [--prune] [--json]
//	    every namespace, reserved ones included (the migration records travel; the
//	    namespace catalog is rebuilt by the destination), in batches, then verified.
//	dockyard bench --driver NAME --dsn DSN [--duration D | --ops N] [--json]     (or --store, $DOCKYARD_STORE)
//	    a standard mix (get, put, update of 100, scan) with ops/s and p50/p90/p99/max.
//
// Every command has --help; dockyard --version prints the build's version (module version or
// VCS revision), its Go version and the ABI it speaks.
//
// # Exit codes
//
//	0  success
//	1  the operation failed: an error from a store or driver, a key not found (get,
//	   delete), a failed conformance case, a copy that does not verify, an unknown driver
//	   while some driver directory failed to load (it may be one of those), an artifact
//	   that is not a driver or a bad manifest (manifest)
//	2  usage error: unknown command, unknown or malformed flag, wrong number of arguments,
//	   a malformed argument (bad hex, bad --run regexp, a --run that selects no case), an
//	   unknown driver, a read command without the --dsn its driver needs
//
// Errors go to stderr as "dockyard: ..."; usage errors add a pointer to --help.
//
// # Binary safety
//
// Namespaces and keys are any bytes. On the command line, --hex-keys makes key, prefix and
// --after arguments hex, and --hex-ns the namespace argument (binary keys usually live in a
// namespace with a plain name). get writes a value's raw bytes to stdout; put reads a
// value from stdin when it is not an argument; --hex switches values (and scan's keys) to hex.
//
// Text output (listings, summaries, error messages) shows every namespace and key in one
// format, that of the command's arguments, so that what it prints can be given back: a key in
// lower-case hex with --hex-keys, a namespace in hex with --hex-ns, each flag on its own (a
// binary key in a plainly named namespace prints as "key 6b00ff in namespace users"); else as
// it is when it is printable UTF-8 without tabs or line breaks, not starting with a double
// quote and neither starting nor ending with a space, and Go-quoted otherwise
// ("\x00dockyard/migrations", "ada "), so every entry is one unambiguous line. The empty
// string is "" either way. Commands without those flags (copy, namespaces, migrations) use
// the second form; namespaces --hex the first. JSON output carries
// bytes (namespaces, keys, values) in standard, padded base64, or in lower-case hex with
// --hex; scan --json is JSON Lines (one object per entry), the other commands print one JSON
// document. Writes to Dockyard's reserved namespaces ("\x00dockyard/...") need --reserved.
//
// # copy
//
// copy reads the source in batches, each in a View of its own, and writes each batch in one
// Update of the destination, skipping keys that already hold the same value: re-running a
// copy is safe, and re-running an interrupted one resumes it, writing only what is missing.
// Keys present only in the destination are never deleted unless --prune; without it they fail
// the verification (the copy is not a copy), and the summary names them. The verification
// reads both sides again in key order and compares every entry, printing key counts and a
// sha256 of keys and values per namespace. The source should be quiescent during a copy:
// there is no snapshot across batches, and the verification reports what changed meanwhile.
//
// # Progress and logs
//
// Progress bars (copy, bench) go to stderr, and only when stderr is a terminal unless
// --progress forces them on (or --progress=false off), so pipes and scripts stay clean. Each
// counts to a known total, with an ETA: copy first counts the source's keys (one more read of
// the source, made only when a bar is drawn), then draws a bar of keys copied and one of keys
// verified; bench's preload counts keys, and its run counts operations, to --ops. A --duration
// run does not know how many operations it will make, so its bar counts them without a total
// (no made-up one: neither milliseconds shown as operations nor a guess from the rate) and
// says the time left.
//
// Logs (driver loading, wasm guest output, plugin logs) go to stderr through log/slog, at
// Warn unless -v (Debug), each event once, by the layer where it happens (a driver's loading
// by package host).
//
// Text output shows every duration (bench's latencies and run, copy's time, conform's cases)
// to three significant digits: 1.23ms, 456µs, 12.3s. --json keeps nanoseconds.
//
// # Why cobra and progressbar
//
// github.com/spf13/cobra is the command library of most Go CLIs (kubectl, docker, gh, hugo):
// it gives subcommands, POSIX flags through spf13/pflag, --help on every command, usage
// errors that can be told apart from failures (SetFlagErrorFunc and argument validators,
// which is how exit code 2 is kept distinct from 1), and shell completion, with a single
// small dependency. github.com/schollz/progressbar/v3 draws a throttled bar or spinner with
// counts, rates and byte sizes on any io.Writer, needs no terminal library of its own beyond
// golang.org/x/term, and is easy to switch off entirely, which the CLI does when stderr is
// not a terminal. Both are maintained, widely used and pure Go.
package main
