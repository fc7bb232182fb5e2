//go:build unix

package bench

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/rpc"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/dockyard/dockyard/host/pluginhost"
	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/internal/pluginbinding"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
)

// implSQLitePlugin is drivers/sqlite built as a plugin binary (plugins/sqlite) and run by
// host/pluginhost: the same engine as "sqlite", one process away.
const implSQLitePlugin = "sqlite-plugin"

var (
	sqlitePluginBin = sync.OnceValues(func() (string, error) { return artifactbuild.BuildPlugin("../plugins/sqlite") })
	inmemPluginBin  = sync.OnceValues(func() (string, error) { return artifactbuild.BuildPlugin("../plugins/inmem") })
	echoBin         = sync.OnceValues(func() (string, error) { return artifactbuild.BuildPlugin("testdata/echo") })
	muxEchoBin      = sync.OnceValues(func() (string, error) { return artifactbuild.BuildPlugin("testdata/muxecho") })
	quietPlugin     = pluginhost.WithLogger(slog.New(slog.DiscardHandler))
)

func openSQLitePlugin(ctx context.Context, tb testing.TB, dir string) (*pluginImpl, error) {
	bin, err := sqlitePluginBin()
	if err != nil {
		tb.Fatalf("build plugins/sqlite: %v", err)
	}
	s, err := pluginhost.Open(ctx, bin, filepath.Join(dir, "plugin.db"), quietPlugin)
	if err != nil {
		return nil, err
	}
	return &pluginImpl{storeImpl{s: s}}, nil
}

// pluginImpl is a store on a plugin; it reports round trips like the wasm implementations
// report crossings.
type pluginImpl struct{ storeImpl }

func (im *pluginImpl) crossings() (uint64, bool) {
	st, ok := pdk.StatsOf(im.s)
	return st.RoundTrips, ok
}

// TestPluginRoundTrips checks the plugin targets that are counts, not times: a View with one
// Get, an Update that only writes, and one of 100 Puts are one round trip each.
func TestPluginRoundTrips(t *testing.T) {
	ctx := context.Background()
	im := openLoaded(t, implSQLitePlugin, layout{groups: 2, perGroup: 50}).(*pluginImpl)
	for _, op := range []struct {
		name string
		do   func() error
	}{
		{"View with one Get", func() error { _, err := im.get(ctx, "g00/000001"); return err }},
		{"Update with one Put", func() error { return im.put(ctx, "g00/000002", []byte("v")) }},
		{"Update with 100 Puts", func() error {
			return im.putMany(ctx, layout{groups: 1, perGroup: 100}.keys(), []byte("v"))
		}},
	} {
		before, _ := im.crossings()
		if err := op.do(); err != nil {
			t.Fatalf("%s: %v", op.name, err)
		}
		if after, _ := im.crossings(); after-before != 1 {
			t.Errorf("%s took %d round trips, want 1", op.name, after-before)
		}
	}
}

// pingFrame is the request frame of the plugin's round-trip benchmark (a PING), so the floors
// carry the very bytes the plugin does.
func pingFrame() []byte {
	e := abi.NewEncoder(nil)
	e.AppendHeader(abi.RequestMagic, abi.Major, abi.Minor, 1)
	e.AppendPing()
	return e.Bytes()
}

// BenchmarkRoundTrip measures one round trip to another process:
//
//	plugin     Store.Ping on the inmem plugin (plugins/inmem, whose Ping does nothing): one PING
//	           frame through host/pluginhost, go-plugin's mutual-TLS gRPC connection and
//	           pdk/pluginguest's dispatcher, and back
//	plugin-no-mtls
//	           the same with pluginhost.WithoutAutoMTLS: plain gRPC over go-plugin's socket
//	grpc       the same frame echoed over a gRPC bidirectional stream of the same service and
//	           messages, without TLS, to a process that does nothing else (testdata/echo)
//	unix       the same frame echoed over a bare Unix socket (length-prefixed) by that process
//	mux        the same length-prefixed frame echoed over a raw stream brokered by go-plugin's
//	           netrpc MuxBroker (a yamux stream over go-plugin's connection, with AutoMTLS as
//	           our plugins have it) to testdata/muxecho: the carrier go-plugin offers besides
//	           gRPC
//	mux-no-mtls
//	           the same without AutoMTLS: yamux over go-plugin's plain Unix socket
func BenchmarkRoundTrip(b *testing.B) {
	ctx := context.Background()
	frame := pingFrame()
	for name, opts := range map[string][]pluginhost.Option{
		"plugin":         {quietPlugin},
		"plugin-no-mtls": {quietPlugin, pluginhost.WithoutAutoMTLS()},
	} {
		b.Run(name, func(b *testing.B) {
			bin, err := inmemPluginBin()
			if err != nil {
				b.Fatal(err)
			}
			s, err := pluginhost.Open(ctx, bin, "", opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			for b.Loop() {
				if err := s.Ping(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	dir := startEcho(b)
	b.Run("grpc", func(b *testing.B) {
		conn, err := grpc.NewClient("unix://"+filepath.Join(dir, "grpc.sock"), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stream, err := conn.NewStream(cctx, &pluginbinding.FramesDesc, pluginbinding.FramesMethod)
		if err != nil {
			b.Fatal(err)
		}
		req := &wrapperspb.BytesValue{Value: frame}
		var resp wrapperspb.BytesValue
		for b.Loop() {
			if err := stream.SendMsg(req); err != nil {
				b.Fatal(err)
			}
			if err := stream.RecvMsg(&resp); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unix", func(b *testing.B) {
		c, err := net.Dial("unix", filepath.Join(dir, "raw.sock"))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		echoFrames(b, c, frame)
	})
	for _, mux := range []struct {
		name     string
		autoMTLS bool
	}{{"mux", true}, {"mux-no-mtls", false}} {
		b.Run(mux.name, func(b *testing.B) {
			echoFrames(b, startMuxEcho(b, mux.autoMTLS), frame)
		})
	}
}

// echoFrames is the timed loop of the raw carriers: it writes frame length-prefixed (4 bytes,
// little-endian) to c and reads the echo back, once per iteration.
func echoFrames(b *testing.B, c io.ReadWriter, frame []byte) {
	msg := binary.LittleEndian.AppendUint32(nil, uint32(len(frame)))
	msg = append(msg, frame...)
	resp := make([]byte, len(msg))
	for b.Loop() {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, resp); err != nil {
			b.Fatal(err)
		}
	}
}

// startEcho starts testdata/echo for b and returns the directory of its sockets.
func startEcho(b *testing.B) string {
	b.Helper()
	bin, err := echoBin()
	if err != nil {
		b.Fatalf("build testdata/echo: %v", err)
	}
	dir := b.TempDir()
	cmd := exec.Command(bin, dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || strings.TrimSpace(line) != "ready" {
		b.Fatalf("echo said %q, %v", line, err)
	}
	return dir
}

// muxEchoHandshake and muxEchoName are testdata/muxecho's Handshake and PluginName (a main
// package cannot be imported).
var muxEchoHandshake = goplugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "DOCKYARD_BENCH_MUXECHO",
	MagicCookieValue: "5d0b7a94-dockyard-bench-muxecho",
}

const muxEchoName = "muxecho"

// muxEchoPlugin is the host's side of testdata/muxecho: dispensing it yields the broker and
// the RPC client of the plugin's connection.
type muxEchoPlugin struct{}

type muxEchoClient struct {
	broker *goplugin.MuxBroker
	rpc    *rpc.Client
}

func (muxEchoPlugin) Server(*goplugin.MuxBroker) (any, error) {
	return nil, errors.New("muxecho: the host side has no server")
}

func (muxEchoPlugin) Client(b *goplugin.MuxBroker, c *rpc.Client) (any, error) {
	return &muxEchoClient{broker: b, rpc: c}, nil
}

// startMuxEcho starts testdata/muxecho with go-plugin's netrpc protocol (AutoMTLS as given) and
// returns a raw stream to its echo, brokered by go-plugin's MuxBroker. Cleanup closes the
// stream, checks that the plugin's Echo ended cleanly and kills the plugin.
func startMuxEcho(b *testing.B, autoMTLS bool) net.Conn {
	b.Helper()
	bin, err := muxEchoBin()
	if err != nil {
		b.Fatalf("build testdata/muxecho: %v", err)
	}
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  muxEchoHandshake,
		Plugins:          goplugin.PluginSet{muxEchoName: muxEchoPlugin{}},
		Cmd:              exec.Command(bin),
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolNetRPC},
		AutoMTLS:         autoMTLS,
		Logger:           hclog.NewNullLogger(),
	})
	b.Cleanup(client.Kill)
	rc, err := client.Client()
	if err != nil {
		b.Fatal(err)
	}
	raw, err := rc.Dispense(muxEchoName)
	if err != nil {
		b.Fatal(err)
	}
	me := raw.(*muxEchoClient)
	// The host reserves the id and accepts it, the plugin dials it: an id accepted on the
	// plugin's side could collide with the one it dispensed the RPC connection on (see
	// testdata/muxecho). Echo returns only when the stream ends, so it is called
	// asynchronously.
	id := me.broker.NextId()
	done := make(chan error, 1)
	go func() { done <- me.rpc.Call("Plugin.Echo", id, &struct{}{}) }()
	conn, err := me.broker.Accept(id)
	if err != nil {
		b.Fatalf("accept brokered stream %d: %v", id, err)
	}
	b.Cleanup(func() {
		conn.Close()
		if err := <-done; err != nil {
			b.Errorf("muxecho's Echo: %v", err)
		}
	})
	return conn
}

// BenchmarkPluginStart measures opening a store on the sqlite plugin and closing it: starting
// the process, go-plugin's handshake and TLS, the ABI's HELLO (SQLite opens its file), and
// stopping it.
func BenchmarkPluginStart(b *testing.B) {
	bin, err := sqlitePluginBin()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("sqlite", func(b *testing.B) {
		ctx := context.Background()
		dsn := filepath.Join(b.TempDir(), "start.db")
		for b.Loop() {
			s, err := pluginhost.Open(ctx, bin, dsn, quietPlugin)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
