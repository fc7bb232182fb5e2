// Command echo is the floor of the plugin benchmarks: a process that answers every message
// with itself, over the two carriers a plugin could use, so package bench can measure a bare
// round trip between two processes in the same run as the plugin's.
//
//	echo DIR
//
// listens on DIR/grpc.sock (a gRPC server whose bidirectional Frames stream, the same service
// and messages as a Dockyard plugin's, echoes each message, without TLS) and DIR/raw.sock (a
// Unix socket echoing frames of a 4-byte little-endian length and that many bytes), prints
// "ready" and serves until its standard input closes.
package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/dockyard/dockyard/internal/pluginbinding"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: echo DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	gl, err := net.Listen("unix", filepath.Join(dir, "grpc.sock"))
	if err != nil {
		fatal(err)
	}
	rl, err := net.Listen("unix", filepath.Join(dir, "raw.sock"))
	if err != nil {
		fatal(err)
	}
	srv := grpc.NewServer()
	srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: pluginbinding.ServiceName,
		HandlerType: (*any)(nil),
		Streams: []grpc.StreamDesc{{StreamName: "Frames", ServerStreams: true, ClientStreams: true,
			Handler: func(_ any, stream grpc.ServerStream) error {
				var m wrapperspb.BytesValue
				for {
					if err := stream.RecvMsg(&m); err != nil {
						if errors.Is(err, io.EOF) {
							return nil
						}
						return err
					}
					if err := stream.SendMsg(&m); err != nil {
						return err
					}
				}
			}}},
	}, struct{}{})
	go func() { _ = srv.Serve(gl) }()
	go serveRaw(rl)
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
}

func serveRaw(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			var buf []byte
			for {
				var n [4]byte
				if _, err := io.ReadFull(c, n[:]); err != nil {
					return
				}
				size := binary.LittleEndian.Uint32(n[:])
				if cap(buf) < int(size)+4 {
					buf = make([]byte, int(size)+4)
				}
				buf = buf[:size+4]
				copy(buf, n[:])
				if _, err := io.ReadFull(c, buf[4:]); err != nil {
					return
				}
				if _, err := c.Write(buf); err != nil {
					return
				}
			}
		}()
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "echo:", err)
	os.Exit(1)
}
