package abi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// wantLost checks err is the lost store's error: store.ErrStoreLost, saying what happened.
func wantLost(t *testing.T, what string, err error, cause string) {
	t.Helper()
	if !errors.Is(err, store.ErrStoreLost) || !strings.Contains(err.Error(), cause) {
		t.Fatalf("%s: %v; want store.ErrStoreLost saying %q", what, err, cause)
	}
}

// everyCallLost checks every kind of call on s fails with the lost store's error.
func everyCallLost(t *testing.T, s store.Store, cause string) {
	t.Helper()
	ctx := context.Background()
	wantLost(t, "Get", s.View(ctx, func(tx store.Tx) error { _, err := tx.Get("ns", "k"); return err }), cause)
	wantLost(t, "Namespaces", s.View(ctx, func(tx store.Tx) error { _, err := store.Namespaces(tx); return err }), cause)
	wantLost(t, "Update", s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k2", []byte("v")) }), cause)
	wantLost(t, "empty View", s.View(ctx, func(store.Tx) error { return nil }), cause)
	wantLost(t, "Ping", s.Ping(ctx), cause)
	wantLost(t, "Migrate", s.Migrate(ctx, store.NewMigrationSet().MustAdd(store.Migration{ID: "0001", Up: func(context.Context, store.Tx) error { return nil }})), cause)
}

// TestLossIsLoud: when a non-durable guest's instance is lost, in a crossing (a trap) or
// before one (a plugin found dead while idle), the failing call and every later one fail
// with store.ErrStoreLost naming what happened, instead of the store going on empty; Close
// works; a store reopened (a new client) works.
func TestLossIsLoud(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		fault error
	}{
		{"trap in a crossing", fmt.Errorf("wasm: guest trapped: unreachable: %w", ErrBroken)},
		{"found dead before a crossing", fmt.Errorf("plugin process found dead: %w (%w)", ErrBroken, ErrNotDelivered)},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := NewLoopback(InmemOpener)
			cl := newClient(t, l)
			s := pdk.NewStore(cl)
			must(t, s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v")) }))
			l.FailNext(c.fault)
			err := s.View(ctx, func(tx store.Tx) error { _, err := tx.Get("ns", "k"); return err })
			wantLost(t, "the call that met the fault", err, strings.SplitN(c.fault.Error(), ":", 2)[0])
			if !errors.Is(err, ErrBroken) {
				t.Errorf("error %v does not wrap abi.ErrBroken", err)
			}
			everyCallLost(t, s, `driver "inmem" is not durable`)
			if !cl.Stats().Lost || cl.Stats().Reopens != 0 {
				t.Errorf("Stats = %+v; want Lost and no reopen", cl.Stats())
			}
			must(t, s.Close())
		})
	}
}

// TestLossDuringCommit: a COMMIT in the crossing that lost a non-durable instance is both an
// unknown commit and a lost store.
func TestLossDuringCommit(t *testing.T) {
	ctx := context.Background()
	l := NewLoopback(InmemOpener)
	s := pdk.NewStore(newClient(t, l))
	l.FailNext(fmt.Errorf("plugin process exited: %w", ErrBroken))
	err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v")) })
	if !errors.Is(err, store.ErrCommitUnknown) {
		t.Errorf("Update: %v; want store.ErrCommitUnknown too", err)
	}
	wantLost(t, "Update", err, "plugin process exited")
	everyCallLost(t, s, "plugin process exited")
}

// TestMalformedAnswerLosesNonDurable: a malformed answer abandons the session, and HELLO
// again opens a new one, in which a non-durable guest's data need not be (the Go guests' is
// not): the store is lost.
func TestMalformedAnswerLosesNonDurable(t *testing.T) {
	ctx := context.Background()
	l := NewLoopback(InmemOpener)
	bad := false
	s := pdk.NewStore(newClient(t, rtFunc(func(ctx context.Context, req []byte) ([]byte, error) {
		if bad {
			bad = false
			return resp(5, ok), nil
		}
		return l.RoundTrip(ctx, req)
	})))
	must(t, s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v")) }))
	bad = true
	wantLost(t, "Get", s.View(ctx, func(tx store.Tx) error { _, err := tx.Get("ns", "k"); return err }), "malformed response")
	everyCallLost(t, s, "malformed response")
}

// TestLossNamesTheHostsName: the loss names the driver by the name the host gave it
// (WithDriverName), not the one the guest declares.
func TestLossNamesTheHostsName(t *testing.T) {
	ctx := context.Background()
	l := NewLoopback(InmemOpener)
	bad := false
	s := pdk.NewStore(newClient(t, rtFunc(func(ctx context.Context, req []byte) ([]byte, error) {
		if bad {
			return resp(5, ok), nil
		}
		return l.RoundTrip(ctx, req)
	}), WithDriverName("from-the-manifest")))
	bad = true
	err := s.View(ctx, func(tx store.Tx) error { _, err := tx.Get("ns", "k"); return err })
	if err == nil || !strings.Contains(err.Error(), `driver "from-the-manifest" is not durable`) || strings.Contains(err.Error(), `"inmem"`) {
		t.Fatalf("loss: %v, want it to name the driver from-the-manifest", err)
	}
}

// TestLossAcceptedOrDurable: a client made WithAcceptLoss (a cache), or one whose guest is
// durable, goes on after a loss on a fresh session, as before.
func TestLossAcceptedOrDurable(t *testing.T) {
	ctx := context.Background()
	durable := func(context.Context, Hello) (pdk.Driver, error) { return durableInfo{inmem.NewDriver()}, nil }
	for _, c := range []struct {
		name string
		open Opener
		opts []ClientOption
	}{
		{"accepted", InmemOpener, []ClientOption{WithAcceptLoss()}},
		{"durable", durable, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := NewLoopback(c.open)
			cl := newClient(t, l, c.opts...)
			s := pdk.NewStore(cl)
			must(t, s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v")) }))
			l.FailNext(fmt.Errorf("trap: %w", ErrBroken))
			if err := s.Ping(ctx); !errors.Is(err, ErrBroken) || errors.Is(err, store.ErrStoreLost) {
				t.Fatalf("Ping in the lost crossing: %v; want ErrBroken, not ErrStoreLost", err)
			}
			must(t, s.Ping(ctx))
			must(t, s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v2")) }))
			if st := cl.Stats(); st.Lost || st.Reopens != 1 {
				t.Errorf("Stats = %+v; want one reopen, not lost", st)
			}
		})
	}
}

// durableInfo declares its driver durable (the Loopback's fresh instance does not keep the
// data, but the client has only the guest's word).
type durableInfo struct{ pdk.Driver }

func (d durableInfo) Info() pdk.Info {
	i := d.Driver.Info()
	i.Caps.Durable = true
	return i
}
