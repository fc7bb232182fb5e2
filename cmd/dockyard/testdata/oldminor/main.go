// Command oldminor is a test fixture of `dockyard manifest write`: the in-memory driver as a
// plugin binary that speaks ABI 1.0, as a plugin built before ABI 1.1 does, so that a test can
// tell the ABI version a manifest gets from the artifact's handshake from this host's own.
// Every response frame it sends says minor 0 in its header, and its answer to HELLO says ABI
// 1.0. Built by the tests with internal/artifactbuild.
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"io"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/internal/pluginbinding"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
)

// The minor version this plugin claims.
const minor = 0

func main() {
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: pluginbinding.Handshake,
		Plugins:         goplugin.PluginSet{pluginbinding.PluginName: &pluginbinding.GRPCPlugin{Service: server{}}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, grpc.MaxRecvMsgSize(pluginbinding.MaxMessage), grpc.MaxSendMsgSize(pluginbinding.MaxMessage))...)
		},
	})
}

type server struct{}

// Frames serves one ABI session with the inmem driver, rewriting the minor version of every
// answer.
func (server) Frames(stream grpc.BidiStreamingServer[wrapperspb.BytesValue, wrapperspb.BytesValue]) error {
	d := abi.NewDispatcher(func(context.Context, abi.Hello) (pdk.Driver, error) { return inmem.NewDriver(), nil })
	defer d.Close()
	ctx := context.WithoutCancel(stream.Context())
	for {
		req, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) || status.Code(err) == codes.Canceled {
				return nil
			}
			return err
		}
		msg := req.Value
		if len(msg) < pluginbinding.SeqSize {
			return errors.New("oldminor: a request without its sequence number")
		}
		frame, seq := msg[:len(msg)-pluginbinding.SeqSize], msg[len(msg)-pluginbinding.SeqSize:]
		out := d.Handle(ctx, frame, nil)
		if len(out) >= abi.HeaderSize {
			binary.LittleEndian.PutUint16(out[6:8], minor) // the header: magic, major, minor, count
		}
		// A HELLO answered OK: its status, then the guest's major and minor.
		if len(frame) > abi.HeaderSize && abi.Op(frame[abi.HeaderSize]) == abi.OpHello &&
			len(out) >= abi.HeaderSize+5 && abi.Status(out[abi.HeaderSize]) == abi.OK {
			binary.LittleEndian.PutUint16(out[abi.HeaderSize+3:abi.HeaderSize+5], minor)
		}
		if err := stream.Send(&wrapperspb.BytesValue{Value: append(out, seq...)}); err != nil {
			return err
		}
	}
}
