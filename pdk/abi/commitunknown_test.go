package abi

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// unknownCommits is a guest driver (inmem) whose every Commit reports that whether it
// committed is unknown, as drivers/postgres does when the server goes away during COMMIT.
type unknownCommits struct{ pdk.Driver }

type unknownCommitTxn struct{ pdk.Txn }

const unknownCommitMsg = "postgres-like: the connection failed during COMMIT, whether it committed is unknown"

func (d unknownCommits) Begin(ctx context.Context, writable bool) (pdk.Txn, error) {
	tx, err := d.Driver.Begin(ctx, writable)
	return unknownCommitTxn{tx}, err
}

func (t unknownCommitTxn) Commit(ctx context.Context) error {
	_ = t.Txn.Commit(ctx) // it did commit: the host must not retry it blindly
	return fmt.Errorf("%s: %w", unknownCommitMsg, store.ErrCommitUnknown)
}

func openUnknownCommits(context.Context, Hello) (pdk.Driver, error) {
	return unknownCommits{inmem.NewDriver()}, nil
}

// TestCommitUnknownAcrossTheABI: a guest driver's store.ErrCommitUnknown crosses as status
// COMMIT_UNKNOWN (ABI 1.1) and reaches the application as an error wrapping the sentinel, with
// the driver's message; the store goes on (the guest's session is intact).
func TestCommitUnknownAcrossTheABI(t *testing.T) {
	ctx := context.Background()
	c := newClient(t, NewLoopback(openUnknownCommits))
	s := pdk.NewStore(c)
	defer s.Close()
	err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v")) })
	if !errors.Is(err, store.ErrCommitUnknown) || !strings.Contains(err.Error(), unknownCommitMsg) {
		t.Fatalf("Update = %v; want store.ErrCommitUnknown with the driver's message", err)
	}
	if errors.Is(err, ErrProtocol) || errors.Is(err, ErrBroken) {
		t.Fatalf("Update = %v: an ordinary failure, not a protocol violation or a loss", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after the unknown commit: %v", err)
	}
}

// TestCommitUnknownToOldHost: to a host of ABI 1.0, which has no COMMIT_UNKNOWN, the dispatcher
// answers FAILED with the driver's message, as before 1.1.
func TestCommitUnknownToOldHost(t *testing.T) {
	d := NewDispatcher(openUnknownCommits)
	e := NewEncoder(nil)
	e.AppendHeader(RequestMagic, Major, 0, 4)
	e.AppendHello(Hello{Major: Major, Minor: 0})
	e.AppendBegin(1, true)
	e.AppendPut(1, "ns", "k", []byte("v"))
	e.AppendCommit(1)
	ops := []Op{OpHello, OpBegin, OpPut, OpCommit}
	for _, c := range []struct {
		minor uint16
		want  Status
	}{{0, Failed}, {1, CommitUnknown}} {
		req := e.Bytes()
		binary.LittleEndian.PutUint16(req[6:], c.minor)
		binary.LittleEndian.PutUint16(req[HeaderSize+3:], c.minor)
		rs := results(t, d.Handle(context.Background(), req, nil), ops)
		if len(rs) != 4 || rs[3].status != c.want || !strings.Contains(rs[3].msg, unknownCommitMsg) {
			t.Fatalf("host 1.%d: results %+v; want COMMIT answered %v with the driver's message", c.minor, rs, c.want)
		}
	}
}

// TestCommitUnknownFromOldGuest: status 11 in a response whose header says ABI 1.0 is an
// unknown status (1.0 reserves 11): a protocol violation, not an unknown commit.
func TestCommitUnknownFromOldGuest(t *testing.T) {
	frame := func(minor uint16) []byte {
		e := NewEncoder(nil)
		e.AppendHeader(ResponseMagic, Major, minor, 1)
		e.AppendU8(uint8(CommitUnknown))
		e.AppendString("unknown")
		return e.Bytes()
	}
	r, err := decodeResponse(frame(1), []Op{OpCommit}, defaultLimits)
	if err != nil || !errors.Is(r.status.Err(r.msg), store.ErrCommitUnknown) {
		t.Fatalf("1.1 response: %+v, %v; want COMMIT_UNKNOWN", r, err)
	}
	if _, err := decodeResponse(frame(0), []Op{OpCommit}, defaultLimits); !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "unknown status 11") {
		t.Fatalf("1.0 response with status 11: %v; want ErrProtocol naming it", err)
	}
}
