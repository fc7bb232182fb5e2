// Package pluginguest is the guest side of Dockyard's go-plugin transport: Serve turns any pdk
// driver into a plugin binary, a process of its own that a host (package host/pluginhost) starts,
// talks to over gRPC, and stops. A backend that must not share the application's address space
// (it is third-party code, it links C libraries, it may crash) ships in this form.
//
// The plugin speaks the same ABI as a WebAssembly driver (package pdk/abi, docs/abi.md): the
// host's ABI client sends request frames and the plugin's abi.Dispatcher answers them, so the
// driver code, the wire semantics and the conformance suite are the same for every form.
// Only the carrier differs. Here it is one gRPC bidirectional stream per ABI session
// (service dockyard.plugin.v1.Driver, method Frames, defined in internal/pluginbinding): a request frame is one
// message, its response the next message back. A stream costs one message each way per
// crossing; a unary call per crossing costs measurably more (a new HTTP/2 stream each time).
//
// The go-plugin handshake (pluginbinding.Handshake) comes first and is go-plugin's own: a magic cookie in
// the environment, a protocol version, mutual TLS set up by the host (AutoMTLS). The ABI's
// HELLO then negotiates the ABI version and the driver's capabilities, as over any transport.
//
// Serve also makes the plugin a good citizen: its slog records reach the host's logger at
// their levels, and it exits by itself when its host process is gone.
package pluginguest
