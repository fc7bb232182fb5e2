package ctest

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/store"
)

// cunknownC is testdata/cunknown.c, a driver whose every COMMIT reports DY_COMMIT_UNKNOWN.
var cunknownC = &cModule{srcs: concat([]string{"testdata/cunknown.c"}, runtimeSrcs, bindingSrcs), flags: cFlags}

const cunknownMsg = "cunknown: the backend went away during COMMIT, whether it committed is unknown"

// asMinor0 rewrites a request built by request() into one from a host of ABI 1.0: the header's
// minor and, when the first operation is HELLO, HELLO's.
func asMinor0(req []byte) []byte {
	binary.LittleEndian.PutUint16(req[6:], 0)
	if abi.Op(req[abi.HeaderSize]) == abi.OpHello {
		binary.LittleEndian.PutUint16(req[abi.HeaderSize+3:], 0)
	}
	return req
}

// TestCommitUnknownStatus: the C runtime reports a driver's DY_COMMIT_UNKNOWN as status 11 to a
// host of ABI 1.1, and as FAILED with the driver's message to a host of ABI 1.0.
func TestCommitUnknownStatus(t *testing.T) {
	g := newRawGuest(t, cunknownC.bytes(t))
	build := func() []byte {
		return request(hello, begin(1, true), put(1, "ns", "k", []byte("v")), commit(1))
	}
	for _, c := range []struct {
		name string
		req  []byte
		want abi.Status
	}{
		{"host 1.1", build(), abi.CommitUnknown},
		{"host 1.0", asMinor0(build()), abi.Failed},
	} {
		rs := mustParse(t, g.roundTrip(c.req), c.req)
		if got := statuses(rs); got != "OK OK OK "+c.want.String() {
			t.Fatalf("%s: results %s, want OK OK OK %v", c.name, got, c.want)
		}
		if msg := rs[3].Msg; msg != cunknownMsg {
			t.Errorf("%s: message %q, want the driver's %q", c.name, msg, cunknownMsg)
		}
	}
}

// TestCommitUnknownThroughHost: through host/wasmhost and the ABI client, the application sees
// store.ErrCommitUnknown for the C driver's unknown commit.
func TestCommitUnknownThroughHost(t *testing.T) {
	m := cunknownC.compile(t, "cunknown")
	s, err := m.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = storePut(s, "ns", "k", "v")
	if !errors.Is(err, store.ErrCommitUnknown) || !strings.Contains(err.Error(), "whether it committed is unknown") {
		t.Fatalf("Update = %v; want an error wrapping store.ErrCommitUnknown with the driver's message", err)
	}
}
