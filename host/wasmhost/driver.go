package wasmhost

import (
	"context"
	"errors"
	"fmt"
	"github.com/dockyard/dockyard/internal/wasmbinding"
	"sync"

	"github.com/dockyard/dockyard/host/artifact"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
)

// driver is the ABI client over a transport; closing it closes the transport too (and the
// module, when the driver owns it).
type driver struct {
	pdk.Driver
	t     *transport
	owned *Module

	closeOnce sync.Once
	closeErr  error
}

func (m *Module) newDriver(ctx context.Context, dsn string, owned bool) (pdk.Driver, error) {
	readOnly := artifact.ReadOnly(ctx)
	t, err := newTransport(m, dsn, readOnly)
	if err != nil {
		return nil, err
	}
	hello := abi.Hello{Major: abi.Major, Minor: abi.Minor, Options: m.cfg.driverOpts, ReadOnly: readOnly}
	switch {
	case t.root != nil:
		hello.DSN = wasmbinding.DataDir
	case t.dsn != "":
		hello.DSN = t.dsn // a server's (WithServerDSN), unchanged
	}
	copts := []abi.ClientOption{abi.WithDriverName(m.cfg.name)}
	if m.cfg.acceptLoss {
		copts = append(copts, abi.WithAcceptLoss())
	}
	client, err := abi.NewClient(ctx, t, hello, copts...)
	if err != nil {
		t.close()
		if errors.As(err, new(*InstanceError)) {
			return nil, err // names the module already
		}
		return nil, fmt.Errorf("wasmhost: module %q: %w", m.cfg.name, err)
	}
	d := &driver{Driver: client, t: t}
	if owned {
		d.owned = m
	}
	return d, nil
}

// Close ends the session (the guest's driver closes), then the instance, the data directory and
// its lock, and an owned module.
func (d *driver) Close() error {
	d.closeOnce.Do(func() {
		d.closeErr = errors.Join(d.Driver.Close(), d.t.close())
		if d.owned != nil {
			d.closeErr = errors.Join(d.closeErr, d.owned.Close(context.Background()))
		}
	})
	return d.closeErr
}

// Guest returns the guest's answer to the ABI handshake (HELLO): the ABI version it speaks and
// what its driver declares. host.Prepared.Handshake reports it.
func (d *driver) Guest() abi.HelloReply {
	if c, ok := d.Driver.(interface{ Guest() abi.HelloReply }); ok {
		return c.Guest()
	}
	return abi.HelloReply{}
}

// TransportStats implements pdk.StatsReporter: the ABI client's counters, crossings into the
// guest and sessions reopened after a lost instance. Benchmarks and tests use it to check
// batching.
func (d *driver) TransportStats() (pdk.TransportStats, bool) {
	if r, ok := d.Driver.(pdk.StatsReporter); ok {
		return r.TransportStats()
	}
	return pdk.TransportStats{}, false
}
