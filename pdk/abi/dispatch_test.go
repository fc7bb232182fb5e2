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

// req builds a request frame of the current version holding the operations ops appends.
func req(ops ...func(*Encoder)) []byte {
	e := NewEncoder(nil)
	e.AppendHeader(RequestMagic, Major, Minor, uint32(len(ops)))
	for _, op := range ops {
		op(&e)
	}
	return e.Bytes()
}

func hello(e *Encoder)   { e.AppendHello(Hello{Major: Major, Minor: Minor, DSN: "d"}) }
func ping(e *Encoder)    { e.AppendPing() }
func closeOp(e *Encoder) { e.AppendClose() }
func begin(tx uint32, w bool) func(*Encoder) {
	return func(e *Encoder) { e.AppendBegin(tx, w) }
}
func get(tx uint32, ns, key string) func(*Encoder) {
	return func(e *Encoder) { e.AppendGet(tx, ns, key) }
}
func put(tx uint32, ns, key, v string) func(*Encoder) {
	return func(e *Encoder) { e.AppendPut(tx, ns, key, []byte(v)) }
}
func commit(tx uint32) func(*Encoder)   { return func(e *Encoder) { e.AppendCommit(tx) } }
func rollback(tx uint32) func(*Encoder) { return func(e *Encoder) { e.AppendRollback(tx) } }
func scan(tx uint32, ns, prefix, after string, limit uint32) func(*Encoder) {
	return func(e *Encoder) { e.AppendScan(tx, ns, prefix, after, limit) }
}

// result is one decoded result of a response.
type result struct {
	status Status
	msg    string
	r      response
}

// results decodes every result of a response frame to a request whose ops are given (a
// frame-level failure may answer any request), failing t on any malformation.
func results(t testing.TB, frame []byte, ops []Op) []result {
	t.Helper()
	d := NewDecoder(frame)
	h, err := decodeHeader(&d, ResponseMagic, "response")
	if err != nil {
		t.Fatalf("response header: %v", err)
	}
	if h.major != Major || h.minor != Minor {
		t.Fatalf("response version %d.%d, want the guest's %d.%d", h.major, h.minor, Major, Minor)
	}
	var out []result
	for i := range int(h.count) {
		op := OpPing
		if i < len(ops) {
			op = ops[i]
		}
		st := Status(d.U8("status"))
		var r response
		lim := defaultLimits
		if err := decodeResult(&d, &r, op, st, h.minor, &lim); err != nil {
			t.Fatalf("result %d: %v", i, err)
		}
		if d.Err() != nil {
			t.Fatalf("result %d: %v", i, d.Err())
		}
		out = append(out, result{st, r.msg, r})
	}
	if d.Len() != 0 {
		t.Fatalf("%d trailing bytes in the response", d.Len())
	}
	return out
}

// do sends a request to d and decodes its results.
func do(t testing.TB, d *Dispatcher, frame []byte) []result {
	t.Helper()
	return results(t, d.Handle(context.Background(), frame, nil), opsOf(frame))
}

// wantStatuses checks the statuses of rs.
func wantStatuses(t testing.TB, what string, rs []result, want ...Status) {
	t.Helper()
	var got []Status
	for _, r := range rs {
		got = append(got, r.status)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: statuses %v (%+v), want %v", what, got, rs, want)
	}
}

func TestSession(t *testing.T) {
	opened := 0
	var drivers []*countingDriver
	d := NewDispatcher(func(ctx context.Context, h Hello) (pdk.Driver, error) {
		if h.DSN != "d" {
			return nil, fmt.Errorf("dsn %q", h.DSN)
		}
		opened++
		cd := &countingDriver{Driver: inmem.NewDriver()}
		drivers = append(drivers, cd)
		return cd, nil
	})

	rs := do(t, d, req(ping, begin(1, false)))
	wantStatuses(t, "before HELLO", rs, NotOpen)
	if !strings.Contains(rs[0].msg, "PING before HELLO") {
		t.Errorf("NOT_OPEN message %q", rs[0].msg)
	}

	rs = do(t, d, req(hello, begin(7, true), put(7, "ns", "k", "v"), get(7, "ns", "k"), get(7, "ns", "absent"), commit(7), ping))
	wantStatuses(t, "one batch", rs, OK, OK, OK, OK, NotFound, OK, OK)
	if info := rs[0].r.info; info.Name != "inmem" || info.Flags != FlagConcurrentReaders || info.Major != Major {
		t.Errorf("HELLO answered %+v", info)
	}
	if string(rs[3].r.value) != "v" {
		t.Errorf("GET read %q, want read-your-write v", rs[3].r.value)
	}

	rs = do(t, d, req(begin(1, false), get(9, "ns", "k"), ping))
	wantStatuses(t, "unknown tx stops the batch", rs, OK, UnknownTx)
	if !strings.Contains(rs[1].msg, "transaction 9 is not open") {
		t.Errorf("UNKNOWN_TX message %q", rs[1].msg)
	}
	rs = do(t, d, req(begin(1, true)))
	wantStatuses(t, "BEGIN of an open id", rs, BadFrame)
	if !strings.Contains(rs[0].msg, "transaction 1 is already open") {
		t.Errorf("BAD_FRAME message %q", rs[0].msg)
	}

	// A second HELLO ends the open session as CLOSE would, then opens a new one.
	rs = do(t, d, req(hello, get(1, "ns", "k")))
	wantStatuses(t, "HELLO on an open session", rs, OK, UnknownTx)
	if opened != 2 || drivers[0].closed != 1 || drivers[0].rollbacks != 1 {
		t.Errorf("re-HELLO: opened %d drivers, first closed %d times with %d rollbacks; want 2, 1, 1", opened, drivers[0].closed, drivers[0].rollbacks)
	}

	rs = do(t, d, req(begin(2, false), closeOp, ping))
	wantStatuses(t, "CLOSE", rs, OK, OK, NotOpen)
	if drivers[1].closed != 1 || drivers[1].rollbacks != 1 {
		t.Errorf("CLOSE closed the driver %d times with %d rollbacks, want 1, 1", drivers[1].closed, drivers[1].rollbacks)
	}
	wantStatuses(t, "HELLO after CLOSE", do(t, d, req(hello, ping)), OK, OK)
}

// countingDriver counts Close and Rollback calls.
type countingDriver struct {
	pdk.Driver
	closed, rollbacks int
}

func (c *countingDriver) Close() error { c.closed++; return c.Driver.Close() }

func (c *countingDriver) Begin(ctx context.Context, w bool) (pdk.Txn, error) {
	tx, err := c.Driver.Begin(ctx, w)
	return &countingTxn{Txn: tx, d: c}, err
}

type countingTxn struct {
	pdk.Txn
	d *countingDriver
}

func (t *countingTxn) Rollback() error { t.d.rollbacks++; return t.Txn.Rollback() }

func TestVersionMismatchGuestSide(t *testing.T) {
	d := NewDispatcher(InmemOpener)
	e := NewEncoder(nil)
	e.AppendHeader(RequestMagic, Major+1, 3, 1)
	e.AppendHello(Hello{Major: Major + 1, Minor: 3})
	rs := do(t, d, e.Bytes())
	wantStatuses(t, "request of the next major", rs, Incompatible)
	want := fmt.Sprintf("host speaks ABI %d.3, guest speaks ABI %d.%d", Major+1, Major, Minor)
	if rs[0].msg != want {
		t.Errorf("INCOMPATIBLE message %q, want %q", rs[0].msg, want)
	}
	// A HELLO naming another major inside a frame of ours is refused the same way.
	rs = do(t, d, req(func(e *Encoder) { e.AppendHello(Hello{Major: 0, Minor: 9}) }))
	wantStatuses(t, "HELLO of major 0", rs, Incompatible)
	if !strings.Contains(rs[0].msg, "host speaks ABI 0.9") {
		t.Errorf("INCOMPATIBLE message %q", rs[0].msg)
	}
}

func TestMalformedRequests(t *testing.T) {
	valid := req(hello, begin(1, true), put(1, "ns", "k", "v"))
	withCount := func(n uint32) []byte {
		b := append([]byte{}, valid...)
		b[8], b[9], b[10], b[11] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
		return b
	}
	for _, tc := range []struct {
		name  string
		frame []byte
		want  string // in the BAD_FRAME message
	}{
		{"empty", nil, "request frame of 0 bytes is shorter than the 12-byte header at offset 0"},
		{"short header", valid[:7], "request frame of 7 bytes is shorter"},
		{"bad magic", append([]byte("DYR\x00"), valid[4:]...), `bad request magic "DYR\x00"`},
		{"count past the bytes", withCount(1 << 30), "count 1073741824 exceeds what the"},
		{"count too high by one", withCount(4), "op 3 (op(0)): truncated op code: needs 1 bytes, 0 left at offset"},
		{"trailing garbage", append(append([]byte{}, valid...), 1, 2, 3), "3 trailing bytes after the last of 3 operations at offset"},
		{"truncated field", valid[:len(valid)-1], "op 2 (PUT): value length 1 exceeds the 0 bytes left at offset 48"},
		{"truncated length", valid[:len(valid)-2], "op 2 (PUT): truncated value length: needs 4 bytes, 3 left at offset 48"},
		{"length past the end", req(func(e *Encoder) { e.AppendU8(uint8(OpGet)); e.AppendU32(1); e.AppendU32(1 << 31) }),
			"op 0 (GET): ns length 2147483648 exceeds the 0 bytes left at offset 17"},
		{"unknown op", req(ping, func(e *Encoder) { e.AppendU8(99) }), "op 1 (op(99)): unknown op code 99 at offset 13"},
		{"op zero", req(func(e *Encoder) { e.AppendU8(0) }), "unknown op code 0 at offset 12"},
		{"tx id zero", req(hello, begin(0, false)), "op 1 (BEGIN): transaction id 0 (reserved) at offset"},
		{"writable flag", req(func(e *Encoder) { e.AppendU8(uint8(OpBegin)); e.AppendU32(1); e.AppendU8(2) }), "writable flag 2 (want 0 or 1) at offset 17"},
		{"scan limit zero", req(scan(1, "ns", "", "", 0)), "op 0 (SCAN): scan limit 0 (want at least 1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDispatcher(InmemOpener)
			rs := do(t, d, tc.frame)
			wantStatuses(t, tc.name, rs, BadFrame)
			if !strings.Contains(rs[0].msg, tc.want) {
				t.Errorf("message %q, want it to contain %q", rs[0].msg, tc.want)
			}
			// Nothing ran: the session is not open.
			wantStatuses(t, "after", do(t, d, req(ping)), NotOpen)
		})
	}
}

// panicky panics in Put when the value is "panic", and fails with a not-found error when it
// is "notfound".
type panicky struct{ pdk.Driver }

func (p panicky) Begin(ctx context.Context, w bool) (pdk.Txn, error) {
	tx, err := p.Driver.Begin(ctx, w)
	return panickyTxn{tx}, err
}

type panickyTxn struct{ pdk.Txn }

func (t panickyTxn) Put(ctx context.Context, ns, key string, v []byte) error {
	switch string(v) {
	case "panic":
		panic("boom")
	case "notfound":
		return fmt.Errorf("lost the row: %w", store.ErrNotFound)
	case "toolarge":
		return fmt.Errorf("too big for me: %w", store.ErrTooLarge)
	}
	return t.Txn.Put(ctx, ns, key, v)
}

func TestDriverPanic(t *testing.T) {
	d := NewDispatcher(func(context.Context, Hello) (pdk.Driver, error) { return panicky{inmem.NewDriver()}, nil })
	rs := do(t, d, req(hello, begin(1, true), put(1, "ns", "k", "panic"), commit(1)))
	wantStatuses(t, "panic in PUT", rs, OK, OK, Failed)
	if rs[2].msg != "driver panicked in PUT: boom" {
		t.Errorf("message %q", rs[2].msg)
	}
	wantStatuses(t, "the transaction was dropped", do(t, d, req(commit(1))), UnknownTx)
	rs = do(t, d, req(begin(1, true), put(1, "ns", "k", "notfound")))
	wantStatuses(t, "not-found error from PUT", rs, OK, Failed)
	if !strings.Contains(rs[1].msg, "lost the row") {
		t.Errorf("message %q", rs[1].msg)
	}
	rs = do(t, d, req(put(1, "ns", "k", "toolarge")))
	wantStatuses(t, "sentinel error from PUT", rs, TooLarge)
	if err := rs[0].status.Err(rs[0].msg); !errors.Is(err, store.ErrTooLarge) || err.Error() != "too big for me: store: too large" {
		t.Errorf("TOO_LARGE maps back to %v", err)
	}
	wantStatuses(t, "still serving", do(t, d, req(put(1, "ns", "k", "v"), commit(1), begin(2, false), get(2, "ns", "k"))), OK, OK, OK, OK)

	d = NewDispatcher(func(context.Context, Hello) (pdk.Driver, error) { panic("no driver today") })
	rs = do(t, d, req(hello, ping))
	wantStatuses(t, "panic in the Opener", rs, Failed)
	if rs[0].msg != "driver panicked in HELLO: no driver today" {
		t.Errorf("message %q", rs[0].msg)
	}
	wantStatuses(t, "no session after it", do(t, d, req(ping)), NotOpen)
}

func TestScanPageBudget(t *testing.T) {
	d := NewDispatcher(InmemOpener)
	big := strings.Repeat("x", 400<<10)
	rs := do(t, d, req(hello, begin(1, true), put(1, "ns", "a", big), put(1, "ns", "b", big), put(1, "ns", "c", big), put(1, "ns", "d", "small"),
		scan(1, "ns", "", "", 10), scan(1, "ns", "", "b", 10), scan(1, "ns", "", "", 2)))
	wantStatuses(t, "scans", rs, OK, OK, OK, OK, OK, OK, OK, OK, OK)
	for i, want := range []struct {
		keys string
		more bool
	}{{"a b", true}, {"c d", false}, {"a b", true}} {
		r := rs[6+i].r
		var keys []string
		for _, kv := range r.page {
			keys = append(keys, kv.Key)
		}
		if strings.Join(keys, " ") != want.keys || r.more != want.more {
			t.Errorf("scan %d: keys %q more %v, want %q more %v", i, keys, r.more, want.keys, want.more)
		}
	}
	huge := strings.Repeat("y", 3<<20)
	rs = do(t, d, req(put(1, "big", "a", huge), put(1, "big", "b", "z"), scan(1, "big", "", "", 5)))
	if len(rs) != 3 || len(rs[2].r.page) != 1 || !rs[2].r.more {
		t.Errorf("a page always holds at least one entry: got %d entries, more %v", len(rs[2].r.page), rs[2].r.more)
	}
}

// TestDispatcherClose: a host that goes away without CLOSE leaves a session; Close rolls back
// its open transactions and closes the driver once, and a later HELLO opens a new session.
func TestDispatcherClose(t *testing.T) {
	var drivers []*countingDriver
	d := NewDispatcher(func(context.Context, Hello) (pdk.Driver, error) {
		cd := &countingDriver{Driver: inmem.NewDriver()}
		drivers = append(drivers, cd)
		return cd, nil
	})
	if err := d.Close(); err != nil {
		t.Fatalf("Close without a session: %v", err)
	}
	wantStatuses(t, "open", do(t, d, req(hello, begin(1, false), begin(2, true))), OK, OK, OK)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if c := drivers[0]; c.closed != 1 || c.rollbacks != 2 {
		t.Fatalf("after Close: driver closed %d times, %d rollbacks; want 1 and 2", c.closed, c.rollbacks)
	}
	wantStatuses(t, "after Close", do(t, d, req(ping)), NotOpen)
	wantStatuses(t, "new session", do(t, d, req(hello, ping)), OK, OK)
	if len(drivers) != 2 {
		t.Fatalf("%d drivers opened, want 2", len(drivers))
	}
}
