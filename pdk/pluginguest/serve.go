package pluginguest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/dockyard/dockyard/internal/pluginbinding"
	"github.com/dockyard/dockyard/pdk/abi"
)

// Serve runs the plugin: it serves the drivers open returns, one ABI session per Frames
// stream the host opens, until the host stops the plugin. It is what a plugin binary's main
// calls, and it does not return:
//
//	func main() { pluginguest.Serve(func(ctx context.Context, h abi.Hello) (pdk.Driver, error) { return mydriver.Open(h.DSN) }) }
//
// Started by hand, without the host's magic cookie, the binary says it is a plugin and exits 1.
// slog's default logger writes to the host, which logs each record through its own slog at the
// record's level (see LevelEnv). If the host process disappears without stopping the plugin (it
// was killed), the plugin exits within about half a second.
func Serve(open abi.Opener) {
	// go-plugin replaces os.Stderr with a pipe of its own once it serves; the host reads log
	// records from the real stderr, so keep it.
	stderr := os.Stderr
	log := slog.New(newLogHandler(stderr, levelFromEnv()))
	slog.SetDefault(log)
	go watchParent(log, os.Getppid())
	srv := &server{open: open, log: log}
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: pluginbinding.Handshake,
		Plugins:         goplugin.PluginSet{pluginbinding.PluginName: &pluginbinding.GRPCPlugin{Service: srv}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, grpc.MaxRecvMsgSize(pluginbinding.MaxMessage), grpc.MaxSendMsgSize(pluginbinding.MaxMessage))...)
		},
		Logger: hclog.New(&hclog.LoggerOptions{Name: "go-plugin", Output: stderr, JSONFormat: true, Level: hclog.Warn}),
	})
	os.Exit(0) // go-plugin returns only in its test mode
}

// server serves the Frames stream.
type server struct {
	open abi.Opener
	log  *slog.Logger
}

// frames is one ABI session: request frames in, response frames out, one for one, through a
// dispatcher of its own. When the host ends the stream without CLOSE (it died, or gave up on
// a call), the session is closed here, so the driver releases its files and locks.
func (s *server) Frames(stream grpc.BidiStreamingServer[wrapperspb.BytesValue, wrapperspb.BytesValue]) error {
	d := abi.NewDispatcher(s.open)
	defer func() {
		if err := d.Close(); err != nil {
			s.log.Warn("closing the session the host left open", "error", err)
		}
	}()
	// The driver's calls get a context that is never cancelled. The stream's own is, and a
	// cancellable context costs database/sql and modernc's sqlite a goroutine per statement to
	// watch it (a cost measured in docs/performance.md). Nothing is lost: a host that gives
	// up on a call kills this process, and one that closes the stream ends this loop.
	ctx := context.WithoutCancel(stream.Context())
	var out []byte
	resp := &wrapperspb.BytesValue{}
	for {
		req, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) || status.Code(err) == codes.Canceled {
				return nil
			}
			return err
		}
		frame, seq, ok := splitSeq(req.Value)
		if !ok {
			return fmt.Errorf("pdk/pluginguest: a request of %d bytes has no sequence number: is the host's plugin protocol older than %d?", len(req.Value), pluginbinding.Handshake.ProtocolVersion)
		}
		out = d.Handle(ctx, frame, out)
		out = append(out, seq...)
		resp.Value = out
		// SendMsg encodes the message before it returns, so out may be reused.
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}

// splitSeq splits a message of the Frames stream into its frame and its sequence number.
func splitSeq(msg []byte) (frame, seq []byte, ok bool) {
	if len(msg) < pluginbinding.SeqSize {
		return nil, nil, false
	}
	return msg[:len(msg)-pluginbinding.SeqSize], msg[len(msg)-pluginbinding.SeqSize:], true
}

// watchParent exits the plugin when its parent process is gone (the plugin was reparented):
// a host killed with SIGKILL cannot stop its plugins, and Linux's parent-death signal, which
// host/pluginhost also asks for, is not available everywhere.
func watchParent(log *slog.Logger, ppid int) {
	for {
		time.Sleep(500 * time.Millisecond)
		if os.Getppid() != ppid {
			log.Warn("the host process is gone: exiting", "host_pid", ppid)
			os.Exit(3)
		}
	}
}
