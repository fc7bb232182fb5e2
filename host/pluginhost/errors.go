//go:build unix

package pluginhost

import "errors"

var (
	// ErrStart is wrapped by every failure to start a plugin process: a missing or
	// non-executable binary, a process that exits or never completes go-plugin's handshake
	// within the start timeout, a handshake mismatch.
	ErrStart = errors.New("pluginhost: plugin did not start")
	// ErrChecksum is wrapped (beside ErrStart) when the binary's SHA-256 is not the pinned one.
	ErrChecksum = errors.New("pluginhost: plugin binary checksum mismatch")
	// ErrHandshake is wrapped (beside ErrStart) when the binary does not complete go-plugin's
	// handshake as a Dockyard plugin: a wrong magic cookie or plugin protocol version.
	ErrHandshake = errors.New("pluginhost: plugin handshake refused")
)
