// Package pluginbinding defines the plugin binding of the ABI once, for both of its ends: the
// go-plugin handshake, the gRPC service that carries ABI frames, the message caps and the
// environment the host sets. The guest (pdk/pluginguest) and the host (host/pluginhost) import
// it; docs/abi.md, "Plugin binding", is its description for plugins written in other languages.
package pluginbinding

import (
	"context"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/dockyard/dockyard/pdk/abi"
)

// Handshake is the go-plugin handshake a Dockyard plugin binary and its host share. go-plugin
// refuses a plugin whose ProtocolVersion differs, and a binary started without the magic
// cookie in its environment refuses to run (it is not meant to be started by hand).
// ProtocolVersion changes only if the gRPC service below changes incompatibly; the ABI carried
// inside has its own versions, negotiated by HELLO.
var Handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  2, // 2: every message ends with its sequence number (SeqSize)
	MagicCookieKey:   "DOCKYARD_PLUGIN",
	MagicCookieValue: "8f3c1e2a-dockyard-driver",
}

// PluginName is the name the driver is dispensed under in the go-plugin plugin set.
const PluginName = "driver"

// Service and method names of the gRPC service that carries the ABI. In protobuf terms:
//
//	package dockyard.plugin.v1;
//	service Driver {
//	  // One ABI session per stream: each request message is one ABI request frame, answered
//	  // by exactly one message holding its response frame, in order. Each message ends
//	  // with a sequence number, which the answer repeats (see SeqSize).
//	  rpc Frames(stream google.protobuf.BytesValue) returns (stream google.protobuf.BytesValue);
//	}
//
// The messages are protobuf's well-known BytesValue, so the Go side needs no generated code:
// FramesDesc is what protoc-gen-go-grpc would generate for this one method.
const (
	ServiceName  = "dockyard.plugin.v1.Driver"
	FramesMethod = "/" + ServiceName + "/Frames"
)

// FramesDesc describes the Frames stream, for grpc.ClientConn.NewStream.
var FramesDesc = grpc.StreamDesc{StreamName: "Frames", ServerStreams: true, ClientStreams: true}

// SeqSize is the size of the sequence number that ends every message of the Frames stream:
// the host numbers its requests (a little-endian uint64 after the request frame), and the
// plugin ends each answer with the number of the request it answers. A plugin that sends one
// answer too many is out of step with every later request; without the number, each of those
// would be taken for the answer to the request after it (a Put acknowledged with the previous
// call's answer). With it, the first answer out of step breaks the stream and the host starts
// a new process.
const SeqSize = 8

// MaxMessage bounds a gRPC message from the host: the largest ABI request frame (64 MiB, more
// than any host sends) plus room for the message's own framing. gRPC's default of 4 MiB would
// refuse frames the ABI allows.
const MaxMessage = 64<<20 + 4096

// MaxAnswer bounds a gRPC message from the plugin: the largest ABI response frame
// (abi.MaxResponse, 8 MiB) plus framing. The host refuses a larger message from its length
// prefix, before allocating it.
const MaxAnswer = abi.MaxResponse + 4096

// FramesServer is the server side of the Frames stream.
type FramesServer interface {
	Frames(stream grpc.BidiStreamingServer[wrapperspb.BytesValue, wrapperspb.BytesValue]) error
}

func framesHandler(srv any, stream grpc.ServerStream) error {
	return srv.(FramesServer).Frames(&grpc.GenericServerStream[wrapperspb.BytesValue, wrapperspb.BytesValue]{ServerStream: stream})
}

// serviceDesc registers FramesServer implementations with a grpc.Server.
var serviceDesc = grpc.ServiceDesc{
	ServiceName: ServiceName,
	HandlerType: (*FramesServer)(nil),
	Streams: []grpc.StreamDesc{{
		StreamName: "Frames", Handler: framesHandler, ServerStreams: true, ClientStreams: true,
	}},
	Metadata: "dockyard/plugin/v1/driver.proto",
}

// GRPCPlugin is the go-plugin Plugin for a Dockyard driver. On the plugin side it registers
// Service as the Frames service; on the host side (Service nil) its GRPCClient returns the
// *grpc.ClientConn, on which the host opens Frames streams itself.
type GRPCPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	Service FramesServer
}

// GRPCServer implements goplugin.GRPCPlugin.
func (p *GRPCPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	s.RegisterService(&serviceDesc, p.Service)
	return nil
}

// GRPCClient implements goplugin.GRPCPlugin: it hands the connection to the host.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return c, nil
}

// LevelEnv is the environment variable in which the host tells the plugin the lowest level
// it logs ("debug", "info", "warn" or "error"; default "info"), so records the host would drop
// are not encoded and sent at all.
const LevelEnv = "DOCKYARD_PLUGIN_LOG_LEVEL"
