// Package pluginhost runs a Dockyard driver as
// a separate process under hashicorp/go-plugin and turns it into a store.Store: the plugin
// transport of the ABI in package pdk/abi. The plugin side is package pdk/pluginguest.
//
//	s, err := pluginhost.Open(ctx, "bin/plugins/sqlite", "/var/lib/app/store.db")
//
// A plugin is for a backend that must not share the application's address space: a crash in
// it kills its process, not the application. It costs a process per store and a round trip
// over a local socket per crossing, where a WebAssembly driver costs a function call.
//
// # Transport
//
// The host and the plugin exchange ABI frames over one gRPC bidirectional stream per process
// (service dockyard.plugin.v1.Driver, see internal/pluginbinding): one message per request frame, one
// back per response frame. The ABI client (abi.Client) buffers writes and begins lazily, so a
// View with one Get, and an Update that only writes, is one round trip each. The connection is
// go-plugin's: a Unix socket, with mutual TLS set up afresh for every process (AutoMTLS).
//
// # Lifecycle
//
// Open checks the binary is an executable file and pins its SHA-256 (WithChecksum gives the
// expected one; otherwise the hash the file has now), then starts it. The hash is checked at
// every start, restarts included, so a binary replaced under a running application is refused,
// with an error wrapping ErrChecksum that shows both hashes. The
// handshake is go-plugin's (a magic cookie and a plugin protocol version, pdk/pluginbinding.Handshake;
// a mismatch wraps ErrHandshake and names the host's side), then the ABI's HELLO (a wrong ABI
// major wraps abi.ErrIncompatible and names both). Starting is bounded as a whole, from exec
// to the answer to HELLO, by the start timeout (WithStartTimeout): a missing or non-executable
// binary, a process that exits at once, one that never completes go-plugin's handshake, one
// that accepts the connection and never speaks TLS on it, and one that never answers HELLO
// are each an error wrapping ErrStart that says which, never a hang; it includes the end of
// what the process wrote to stderr.
//
// The plugin's log records (slog in the plugin, through pdk/pluginguest) are logged by the host's
// logger (WithLogger) at their levels, with plugin=<name>; so are go-plugin's own. Forwarding
// is rate-limited per plugin (LogBurst at once, then LogRate a second): what a flooding plugin
// logs past that is dropped, counted (pdk.TransportStats.LogsDropped) and reported in a warning.
//
// Every call has a deadline: the caller's context and the call timeout (WithCallTimeout). A
// plugin that has not answered by then is killed (SIGKILL) and the call fails. A plugin
// process that dies, or is killed, fails the transactions it held with an error wrapping
// abi.ErrBroken that says so; go-plugin does not restart plugins, so this package starts a
// new process at the next use, which sends HELLO again (a durable driver recovers from its
// files). A request that could not reach the plugin because its process was already known
// dead is sent to the new one, so the first use after a crash between transactions
// succeeds. An Update whose COMMIT was in flight when the process died fails with an error
// wrapping store.ErrCommitUnknown: it may have committed, and it is never retried blindly.
// A plugin that keeps failing right after it starts (three times in a row, each having
// answered no more than its HELLO) is not restarted at once: the next start waits 250 ms,
// doubling with each further failure up to 30 s, and a call meanwhile fails at once with an
// error wrapping ErrCrashLoop that gives the count, the wait and the last failure.
//
// Close ends the ABI session (the plugin's driver closes its files) and stops the process,
// within five seconds: a plugin that does not exit by then is killed. On Linux each plugin runs
// in a process group of its own (and, run as root, a PID namespace of its own), and what it
// started is killed the moment it exits, stops or is killed, so no child of a plugin keeps a
// database locked or the host's pipes open. A host that dies without Close takes its plugins
// with it: on Linux they get SIGKILL when it dies (the parent-death signal) and the PID
// namespace takes their children; everywhere pdk/pluginguest exits when its parent is gone.
//
// # Containment
//
// A plugin is third-party code: the host confines it with the operating system's mechanisms
// (the table in docs/manifest.md says exactly what it can reach, per platform). It starts with
// none of the host's environment, where applications keep their secrets (cloud credentials,
// database passwords): only TMPDIR, go-plugin's handshake variables, the log level and what
// WithEnv gives it; its stdin is /dev/null and it inherits no descriptor of the host's. On
// Linux it also runs with no_new_privs under Landlock (sandbox_linux.go): it may reach the
// files beneath its data path (the DSN's directory, see dataPath), WithReadPaths and
// WithWritePaths, TCP ports of WithConnect, and no process outside its sandbox; its resource
// limits (WithLimits, DefaultLimits) are set before any of its code runs. The binary is
// copied into a sealed memory file and hashed there, and that copy is executed, so no swap of
// the file between check and start can run anything else. A host that cannot confine a plugin
// entirely warns at open, or refuses (WithRequireContainment, ErrUncontained).//
// # Platforms
//
// The package is for Unix systems alone (its files build with the unix constraint): a plugin
// is a process group to signal, a sealed memory file to execute and, on Linux, a Landlock
// domain to confine. Elsewhere, Windows among them, the package is empty: it registers no
// transport, and a plugin artifact fails to open with host.ErrTransportNotLinked.
package pluginhost
