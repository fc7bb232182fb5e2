// Command muxecho is a floor of the plugin benchmarks: a go-plugin plugin on the netrpc
// protocol whose one RPC method echoes frames over a raw byte stream that go-plugin's
// MuxBroker brokers (a yamux stream multiplexed over go-plugin's own connection, which is
// mutual TLS when the host sets AutoMTLS). Package bench measures that stream's round trip in
// the same run as the plugin's gRPC one.
//
// It is started by a go-plugin host only (Handshake's magic cookie); it is not a Dockyard
// driver, so its cookie is its own. The host dispenses PluginName, reserves a broker id with
// its MuxBroker's NextId, calls Plugin.Echo with it and accepts that id: Echo dials the id and
// answers every frame on the connection (a 4-byte little-endian length and that many bytes, as
// testdata/echo's raw.sock) with itself until the host closes it, then returns.
//
// The side that reserves an id must be the side that accepts it: each MuxBroker counts ids
// from 1 on its own, and the plugin's side has already accepted its own id 1 (the dispensed
// RPC connection), so a host id accepted here could meet that entry before go-plugin forgets
// it, and MuxBroker.Accept then closes a closed channel and the plugin panics (seen here once
// in about forty starts).
package main

import (
	"encoding/binary"
	"errors"
	"io"
	"net/rpc"
	"os"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
)

// Handshake and PluginName are repeated in package bench, which cannot import a main package.
var Handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "DOCKYARD_BENCH_MUXECHO",
	MagicCookieValue: "5d0b7a94-dockyard-bench-muxecho",
}

const PluginName = "muxecho"

func main() {
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         goplugin.PluginSet{PluginName: echoPlugin{}},
		Logger:          hclog.New(&hclog.LoggerOptions{Name: "muxecho", Output: os.Stderr, JSONFormat: true, Level: hclog.Warn}),
	})
}

// echoPlugin is the plugin's side only: go-plugin asks it for the RPC server.
type echoPlugin struct{}

func (echoPlugin) Server(b *goplugin.MuxBroker) (any, error) { return &Echoer{broker: b}, nil }

func (echoPlugin) Client(*goplugin.MuxBroker, *rpc.Client) (any, error) {
	return nil, errors.New("muxecho: the plugin side has no client")
}

// Echoer is served by net/rpc under the name "Plugin".
type Echoer struct{ broker *goplugin.MuxBroker }

// Echo dials the brokered connection id and echoes frames on it until the host closes it.
// net/rpc runs each call on its own goroutine, so the host calls it asynchronously and accepts
// id meanwhile.
func (e *Echoer) Echo(id uint32, _ *struct{}) error {
	c, err := e.broker.Dial(id)
	if err != nil {
		return err
	}
	defer c.Close()
	var buf []byte
	for {
		var n [4]byte
		if _, err := io.ReadFull(c, n[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		size := binary.LittleEndian.Uint32(n[:])
		if cap(buf) < int(size)+4 {
			buf = make([]byte, int(size)+4)
		}
		buf = buf[:size+4]
		copy(buf, n[:])
		if _, err := io.ReadFull(c, buf[4:]); err != nil {
			return err
		}
		if _, err := c.Write(buf); err != nil {
			return err
		}
	}
}
