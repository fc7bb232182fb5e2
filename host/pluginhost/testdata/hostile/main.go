// Command hostile is a test fixture: a plugin binary that misbehaves in the way the
// environment variable DOCKYARD_HOSTILE names, so host/pluginhost's tests can check that each
// misbehaviour is a clear error and never a hang or a panic in the host.
//
//	garbage     answers every request frame with random bytes
//	wrongabi    a real in-memory driver whose HELLO answer claims ABI major 99
//	hang        reads requests and never answers
//	crash       writes a line to stderr and exits 3 before the handshake
//	silent      never completes go-plugin's handshake
//	mute        completes go-plugin's handshake, accepts the connection and never speaks on it
//	wrongcookie serves with another magic cookie value
//	wrongproto  serves the next plugin protocol version
//	logs        a real in-memory driver that logs one record per level when opened
//	env         a real in-memory driver that logs its whole environment when opened
//	spawn       a real in-memory driver that starts itself, silent, holding its stderr, in a
//	            session (and process group) of its own, and logs the child's pid
//	flood       a real in-memory driver that logs 5,000 error records when opened
//	huge        a real in-memory driver that answers every request but HELLO with a 60 MiB frame
//	extra       a real in-memory driver that sends its answer to the second request twice
//	crashloop   a real in-memory driver whose process exits at any request but a lone HELLO
//	probe       a real in-memory driver that tries, when opened, to get out of its sandbox and
//	            logs what each attempt got (see probe.go)
//	(unset)     a real in-memory driver
package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/internal/pluginbinding"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/pdk/pluginguest"
)

func main() {
	mode := os.Getenv("DOCKYARD_HOSTILE")
	switch mode {
	case "", "logs", "env", "spawn", "probe", "flood", "badlog":
		pluginguest.Serve(func(_ context.Context, h abi.Hello) (pdk.Driver, error) {
			if mode == "probe" {
				probe(h.DSN)
			}
			if mode == "spawn" {
				child := exec.Command("/proc/self/exe") // in silent mode: sleeps an hour
				child.Env = []string{"DOCKYARD_HOSTILE=silent"}
				child.Stdout, child.Stderr = os.Stderr, os.Stderr
				child.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // out of the plugin's group
				if err := child.Start(); err != nil {
					return nil, err
				}
				slog.Info("hostile child", "pid", child.Process.Pid)
			}
			if mode == "env" {
				slog.Info("hostile env", "environ", strings.Join(os.Environ(), "\n"))
			}
			if mode == "flood" {
				for i := range 5000 {
					slog.Error("hostile flood", "n", i)
				}
			}
			if mode == "badlog" { // JSON lines whose hclog members are not strings (stderrGuard)
				// To descriptor 2 itself: go-plugin's Serve points os.Stderr at its stdio stream.
				for _, l := range []string{`{"@message":1}`, `{"@level":null,"@message":"x"}`, `{"@timestamp":[1]}`} {
					_, _ = syscall.Write(2, []byte(l+"\n"))
				}
			}
			if mode == "logs" {
				slog.Debug("hostile debug record", "n", 1)
				slog.Info("hostile info record", "n", 2)
				slog.Warn("hostile warn record", "n", 3)
				slog.Error("hostile error record", "n", 4)
			}
			return inmem.NewDriver(), nil
		})
	case "crash":
		fmt.Fprintln(os.Stderr, "hostile: crashing at start")
		os.Exit(3)
	case "silent":
		time.Sleep(time.Hour)
	case "mute":
		mute()
	case "wrongcookie", "wrongproto":
		hs := pluginbinding.Handshake
		if mode == "wrongcookie" {
			hs.MagicCookieValue = "another-application"
		} else {
			hs.ProtocolVersion++
		}
		serve(hs, func(req []byte) []byte { return req })
	case "garbage":
		serve(pluginbinding.Handshake, func([]byte) []byte {
			b := make([]byte, 64)
			_, _ = rand.Read(b)
			return b
		})
	case "hang":
		serve(pluginbinding.Handshake, func([]byte) []byte { time.Sleep(time.Hour); return nil })
	case "huge":
		d := abi.NewDispatcher(func(context.Context, abi.Hello) (pdk.Driver, error) { return inmem.NewDriver(), nil })
		huge := make([]byte, 60<<20)
		serve(pluginbinding.Handshake, func(req []byte) []byte {
			if len(req) > abi.HeaderSize && abi.Op(req[abi.HeaderSize]) == abi.OpHello {
				return d.Handle(context.Background(), req, nil)
			}
			return huge
		})
	case "extra":
		d := abi.NewDispatcher(func(context.Context, abi.Hello) (pdk.Driver, error) { return inmem.NewDriver(), nil })
		serveFixture(pluginbinding.Handshake, &fixture{
			answer: func(req []byte) []byte { return d.Handle(context.Background(), req, nil) },
			extra:  func(n int) bool { return n == 2 },
		})
	case "crashloop":
		d := abi.NewDispatcher(func(context.Context, abi.Hello) (pdk.Driver, error) { return inmem.NewDriver(), nil })
		serve(pluginbinding.Handshake, func(req []byte) []byte {
			// The operation count is the header's last 4 bytes; the first op follows it.
			if len(req) <= abi.HeaderSize || abi.Op(req[abi.HeaderSize]) != abi.OpHello || binary.LittleEndian.Uint32(req[8:abi.HeaderSize]) != 1 {
				os.Exit(7)
			}
			return d.Handle(context.Background(), req, nil)
		})
	case "wrongabi":
		d := abi.NewDispatcher(func(context.Context, abi.Hello) (pdk.Driver, error) { return inmem.NewDriver(), nil })
		serve(pluginbinding.Handshake, func(req []byte) []byte {
			resp := d.Handle(context.Background(), req, nil)
			// A batch that starts with HELLO (op code at offset 12) is answered, after the
			// 12-byte header, by a status byte and the guest's info, which starts with its major.
			if len(req) > abi.HeaderSize && abi.Op(req[abi.HeaderSize]) == abi.OpHello && len(resp) > abi.HeaderSize+3 && resp[abi.HeaderSize] == byte(abi.OK) {
				resp[abi.HeaderSize+1], resp[abi.HeaderSize+2] = 99, 0
			}
			return resp
		})
	default:
		fmt.Fprintf(os.Stderr, "hostile: unknown mode %q\n", mode)
		os.Exit(2)
	}
}

// serve serves the Frames service with answer in place of the ABI dispatcher.
func serve(hs goplugin.HandshakeConfig, answer func([]byte) []byte) {
	serveFixture(hs, &fixture{answer: answer})
}

func serveFixture(hs goplugin.HandshakeConfig, f *fixture) {
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: hs,
		Plugins:         goplugin.PluginSet{pluginbinding.PluginName: f},
		GRPCServer:      goplugin.DefaultGRPCServer,
		Logger:          hclog.New(&hclog.LoggerOptions{Output: io.Discard}),
	})
}

type fixture struct {
	goplugin.NetRPCUnsupportedPlugin
	answer func([]byte) []byte
	extra  func(n int) bool // send the answer to request n (from 1) twice
}

func (f *fixture) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: pluginbinding.ServiceName,
		HandlerType: (*any)(nil),
		Streams: []grpc.StreamDesc{{StreamName: "Frames", ServerStreams: true, ClientStreams: true,
			Handler: func(_ any, stream grpc.ServerStream) error {
				for n := 1; ; n++ {
					var m wrapperspb.BytesValue
					if err := stream.RecvMsg(&m); err != nil {
						if errors.Is(err, io.EOF) {
							return nil
						}
						return err
					}
					// Each message ends with its sequence number, which the answer repeats.
					k := max(0, len(m.Value)-pluginbinding.SeqSize)
					a := append(f.answer(m.Value[:k]), m.Value[k:]...)
					if err := stream.SendMsg(&wrapperspb.BytesValue{Value: a}); err != nil {
						return err
					}
					if f.extra != nil && f.extra(n) {
						if err := stream.SendMsg(&wrapperspb.BytesValue{Value: a}); err != nil {
							return err
						}
					}
				}
			}}},
	}, f)
	return nil
}

func (f *fixture) GRPCClient(context.Context, *goplugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("hostile: client side not implemented")
}

// mute announces a socket as go-plugin's handshake line does, and holds every connection to it
// without a byte of TLS.
func mute() {
	path := filepath.Join(os.Getenv("PLUGIN_UNIX_SOCKET_DIR"), "mute.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(1)
	}
	fmt.Printf("1|%d|unix|%s|grpc|\n", pluginbinding.Handshake.ProtocolVersion, path)
	var held []net.Conn
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		held = append(held, c)
	}
}
