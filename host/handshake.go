package host

import (
	"context"
	"errors"
	"fmt"

	"github.com/dockyard/dockyard/pdk/abi"
)

// guestReporter is implemented by the drivers of the transports that speak the ABI
// (host/wasmhost, host/pluginhost): the guest's answer to the handshake.
type guestReporter interface {
	Guest() abi.HelloReply
}

// Handshake opens one driver on the prepared artifact with dsn, as Open does, and returns the
// artifact's own answer to the ABI handshake (HELLO): the ABI version it speaks (what a
// manifest's "abi" declares; dockyard manifest write reads it here), and the name, version and
// capabilities its driver declares. The driver is closed before Handshake returns. A guest of
// another ABI major is refused by the handshake itself, with an error wrapping
// abi.ErrIncompatible that names both versions.
func (p *Prepared) Handshake(ctx context.Context, dsn string) (abi.HelloReply, error) {
	d, err := p.p.Open(ctx, dsn)
	if err != nil {
		return abi.HelloReply{}, p.Manifest.openErr(err)
	}
	var reply abi.HelloReply
	if g, ok := d.(guestReporter); ok {
		reply = g.Guest()
	}
	if err := d.Close(); err != nil {
		return abi.HelloReply{}, p.Manifest.openErr(fmt.Errorf("close after the handshake: %w", err))
	}
	if reply.Major == 0 { // no ABI has major 0: the transport did not say
		return abi.HelloReply{}, p.Manifest.openErr(errors.New("the transport does not report the ABI handshake's answer"))
	}
	return reply, nil
}
