package abi

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// rtFunc is a RoundTripper made of a function.
type rtFunc func(ctx context.Context, req []byte) ([]byte, error)

func (f rtFunc) RoundTrip(ctx context.Context, req []byte) ([]byte, error) { return f(ctx, req) }

// resp builds a response frame of the current version holding what results appends.
func resp(count uint32, results ...func(*Encoder)) []byte {
	e := NewEncoder(nil)
	e.AppendHeader(ResponseMagic, Major, Minor, count)
	for _, r := range results {
		r(&e)
	}
	return e.Bytes()
}

func ok(e *Encoder) { e.AppendU8(uint8(OK)) }

func helloOK(i HelloReply) func(*Encoder) {
	return func(e *Encoder) { e.AppendU8(uint8(OK)); e.appendInfo(i) }
}

var guestInfo = HelloReply{Major: Major, Minor: Minor, Name: "fake", Version: "9"}

func newClient(t testing.TB, rt RoundTripper, opts ...ClientOption) *Client {
	t.Helper()
	d, err := NewClient(context.Background(), rt, Hello{DSN: "d"}, opts...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return d.(*Client)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestBatchShapes(t *testing.T) {
	ctx := context.Background()
	l := NewLoopback(InmemOpener)
	c := newClient(t, l)
	l.Record()

	w, _ := c.Begin(ctx, true)
	must(t, w.Put(ctx, "ns", "a", []byte("1")))
	must(t, w.Delete(ctx, "ns", "b"))
	must(t, w.Put(ctx, "ns", "c", []byte("3")))
	must(t, w.Commit(ctx))

	r1, _ := c.Begin(ctx, false)
	if v, err := r1.Get(ctx, "ns", "a"); err != nil || string(v) != "1" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	must(t, r1.Rollback())
	r2, _ := c.Begin(ctx, false)
	if _, err := r2.Get(ctx, "ns", "b"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get of a deleted key: %v", err)
	}
	must(t, r2.Rollback())

	w2, _ := c.Begin(ctx, true)
	if _, _, err := w2.Scan(ctx, "ns", "", "", 10); err != nil {
		t.Fatal(err)
	}
	must(t, w2.Put(ctx, "ns", "d", []byte("4")))
	must(t, w2.Rollback()) // crossed and writable: sent at once, without the buffered PUT

	never, _ := c.Begin(ctx, false)
	must(t, never.Rollback()) // never crossed: nothing sent
	must(t, c.Close())

	want := [][]Op{
		{OpBegin, OpPut, OpDelete, OpPut, OpCommit},
		{OpBegin, OpGet},
		{OpRollback, OpBegin, OpGet},
		{OpRollback, OpBegin, OpScan},
		{OpRollback},
		{OpClose},
	}
	if got := l.Requests(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests:\n got %v\nwant %v", got, want)
	}
	if _, err := c.Begin(ctx, false); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Begin after Close: %v", err)
	}
	must(t, c.Close())
}

func TestBrokenInstance(t *testing.T) {
	ctx := context.Background()
	l := NewLoopback(InmemOpener)
	c := newClient(t, l, WithAcceptLoss()) // inmem is not durable: go on empty after a loss

	w, _ := c.Begin(ctx, true)
	must(t, w.Put(ctx, "ns", "k", []byte("v")))
	if _, err := w.Get(ctx, "ns", "k"); err != nil {
		t.Fatal(err)
	}
	q, _ := c.Begin(ctx, false)
	if _, err := q.Get(ctx, "ns", "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	must(t, q.Rollback())               // queued: rides with the crossing that breaks, and is dropped
	untouched, _ := c.Begin(ctx, false) // never crossed: survives the break
	trap := fmt.Errorf("wasm: trap: unreachable: %w", ErrBroken)
	l.FailNext(trap)
	l.Record()
	r, _ := c.Begin(ctx, false)
	_, err := r.Get(ctx, "ns", "k")
	if !errors.Is(err, ErrBroken) || !strings.Contains(err.Error(), "guest instance was discarded: wasm: trap: unreachable") {
		t.Fatalf("Get in the broken crossing: %v", err)
	}
	_, err = w.Get(ctx, "ns", "k")
	if !errors.Is(err, ErrBroken) || !strings.Contains(err.Error(), "transaction lost: the guest instance was discarded") {
		t.Fatalf("Get in a transaction begun before the break: %v", err)
	}
	if err := w.Commit(ctx); !errors.Is(err, ErrBroken) {
		t.Fatalf("Commit of a lost transaction: %v", err)
	}
	must(t, r.Rollback())
	if _, err := untouched.Get(ctx, "ns", "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a transaction that never crossed runs on the fresh instance: %v", err)
	}
	must(t, untouched.Rollback())
	must(t, c.Ping(ctx))
	if got, want := l.Requests(), [][]Op{{OpHello, OpBegin, OpGet}, {OpRollback, OpPing}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests after the break: %v, want %v (HELLO first)", got, want)
	}
	if s := c.Stats(); s.Reopens != 1 {
		t.Errorf("Reopens = %d, want 1", s.Reopens)
	}
	if c.live.Len() != 0 {
		t.Errorf("%d transactions still live", c.live.Len())
	}
}

func TestTransportErrorLosesNothing(t *testing.T) {
	ctx := context.Background()
	l := NewLoopback(InmemOpener)
	c := newClient(t, l)
	r, _ := c.Begin(ctx, false)
	if _, err := r.Get(ctx, "ns", "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	must(t, r.Rollback()) // queued
	l.Record()
	l.FailNext(context.DeadlineExceeded)
	if err := c.Ping(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ping: %v", err)
	}
	w, _ := c.Begin(ctx, true)
	must(t, w.Put(ctx, "ns", "k", []byte("v")))
	l.FailNext(errors.New("connection reset"))
	if err := w.Commit(ctx); err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("Commit: %v", err)
	}
	must(t, c.Ping(ctx))
	if got, want := l.Requests(), [][]Op{{OpRollback, OpPing}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests %v, want %v: the queued ROLLBACK must survive failed crossings", got, want)
	}
	if c.live.Len() != 0 {
		t.Errorf("%d transactions still live", c.live.Len())
	}
}

func TestBufferedWriteRefused(t *testing.T) {
	ctx := context.Background()
	l := NewLoopback(func(context.Context, Hello) (pdk.Driver, error) { return panicky{inmem.NewDriver()}, nil })
	c := newClient(t, l)
	l.Record()
	w, _ := c.Begin(ctx, true)
	must(t, w.Put(ctx, "ns", "a", []byte("1")))
	must(t, w.Put(ctx, "ns", "b", []byte("toolarge")))
	must(t, w.Put(ctx, "ns", "c", []byte("3")))
	err := w.Commit(ctx)
	if !errors.Is(err, store.ErrTooLarge) || !strings.Contains(err.Error(), "buffered PUT (write 2 of 3)") {
		t.Fatalf("Commit: %v", err)
	}
	r, _ := c.Begin(ctx, false)
	if _, err := r.Get(ctx, "ns", "a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a write of a failed commit is visible: %v", err)
	}
	must(t, r.Rollback())
	// A write refused before the batch's final GET poisons the transaction.
	w2, _ := c.Begin(ctx, true)
	must(t, w2.Put(ctx, "ns", "b", []byte("toolarge")))
	if _, err := w2.Get(ctx, "ns", "a"); !errors.Is(err, store.ErrTooLarge) {
		t.Fatalf("Get carrying a refused write: %v", err)
	}
	if err := w2.Put(ctx, "ns", "a", []byte("1")); !errors.Is(err, store.ErrTooLarge) {
		t.Fatalf("Put after a refused write: %v", err)
	}
	must(t, w2.Rollback())
	want := [][]Op{
		{OpBegin, OpPut, OpPut, OpPut, OpCommit},
		{OpRollback}, // the failed commit left the transaction open: rolled back at once
		{OpBegin, OpGet},
		{OpRollback, OpBegin, OpPut, OpGet},
		{OpRollback},
	}
	if got := l.Requests(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests:\n got %v\nwant %v", got, want)
	}
}

func TestQueuedRollbackRefused(t *testing.T) {
	ctx := context.Background()
	l := NewLoopback(InmemOpener)
	c := newClient(t, l)
	r, _ := c.Begin(ctx, false)
	if _, err := r.Get(ctx, "ns", "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	// The guest forgets the transaction behind the client's back (as after a driver panic).
	l.mu.Lock()
	l.d.txs.remove(r.(*clientTxn).id)
	l.mu.Unlock()
	must(t, r.Rollback())
	l.Record()
	must(t, c.Ping(ctx))
	if got, want := l.Requests(), [][]Op{{OpRollback, OpPing}, {OpPing}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests %v, want %v: the batch behind a refused queued ROLLBACK is sent again", got, want)
	}
}

func TestVersionMismatchHostSide(t *testing.T) {
	foreign := func(major uint16, body ...func(*Encoder)) []byte {
		e := NewEncoder(nil)
		e.AppendHeader(ResponseMagic, major, 4, uint32(len(body)))
		for _, b := range body {
			b(&e)
		}
		return e.Bytes()
	}
	incompatible := func(e *Encoder) {
		e.AppendU8(uint8(Incompatible))
		e.AppendString("host speaks ABI 1.0, guest speaks ABI 2.4")
	}
	for _, tc := range []struct {
		name  string
		reply []byte
		want  string
	}{
		{"INCOMPATIBLE from a newer guest", foreign(2, incompatible), "host speaks ABI 1.0, guest speaks ABI 2.4"},
		{"garbage in another major", foreign(2, ok, ok), "guest answered in ABI 2.4, host speaks ABI 1.2"},
		{"HELLO answered with another major", resp(1, helloOK(HelloReply{Major: 0, Minor: 7})), "guest speaks ABI 0.7, host speaks ABI 1.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewClient(context.Background(), rtFunc(func(context.Context, []byte) ([]byte, error) { return tc.reply, nil }), Hello{})
			if !errors.Is(err, ErrIncompatible) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewClient: %v, want ErrIncompatible naming %q", err, tc.want)
			}
		})
	}
}

// malformedResponses are responses that break the ABI, each with a phrase its error names,
// for the operations they answer.
var malformedResponses = []struct {
	name  string
	ops   []Op
	frame []byte
	want  string
}{
	{"empty", []Op{OpPing}, nil, "response frame of 0 bytes is shorter than the 12-byte header"},
	{"bad magic", []Op{OpPing}, append([]byte("DYQ\x00"), resp(1, ok)[4:]...), "bad response magic"},
	{"more results than ops", []Op{OpPing}, resp(2, ok, ok), "2 results for a request of 1 operations"},
	{"no results, no failure", []Op{OpBegin, OpGet}, resp(0), "0 results for a request of 2 operations and no failure"},
	{"missing result", []Op{OpBegin, OpGet}, resp(1, ok), "1 results for a request of 2 operations and no failure"},
	{"missing bytes", []Op{OpBegin, OpGet}, resp(2, ok), "result 1 (GET): truncated status"},
	{"unknown status", []Op{OpPing}, resp(1, func(e *Encoder) { e.AppendU8(99) }), "unknown status 99 at offset 12"},
	{"NOT_FOUND for BEGIN", []Op{OpBegin}, resp(1, func(e *Encoder) { e.AppendU8(uint8(NotFound)) }), "status NOT_FOUND for BEGIN"},
	{"failure then more", []Op{OpBegin, OpGet}, resp(2, func(e *Encoder) { e.AppendU8(uint8(Failed)); e.AppendString("x") }, ok),
		"result 0 (BEGIN): failure FAILED followed by more results"},
	{"value past the end", []Op{OpGet}, resp(1, ok, func(e *Encoder) { e.AppendU32(10); e.AppendU8(1) }), "value length 10 exceeds the 1 bytes left at offset 13"},
	{"message past the end", []Op{OpGet}, resp(1, func(e *Encoder) { e.AppendU8(uint8(Failed)); e.AppendU32(1 << 31) }), "message length 2147483648 exceeds"},
	{"trailing bytes", []Op{OpPing}, append(resp(1, ok), 0), "1 trailing bytes after the last result at offset 13"},
	{"huge scan count", []Op{OpScan}, resp(1, ok, func(e *Encoder) { e.AppendU32(1<<32 - 1); e.AppendU8(0) }), "scan page of 4294967295 entries exceeds the SCAN's limit of 65536"},
	{"scan count past the bytes", []Op{OpScan}, resp(1, ok, func(e *Encoder) { e.AppendU32(3); e.AppendU8(0) }), "scan page of 3 entries cannot fit in the 1 bytes left"},
	{"more flag", []Op{OpScan}, resp(1, ok, func(e *Encoder) { e.AppendU32(0); e.AppendU8(2) }), "more flag 2 (want 0 or 1)"},
	{"truncated info", []Op{OpHello}, resp(1, ok, func(e *Encoder) { e.AppendU16(1); e.AppendU16(0); e.AppendString("n") }), "truncated driver version length"},
}

func TestMalformedResponses(t *testing.T) {
	for _, tc := range malformedResponses {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeResponse(tc.frame, tc.ops, defaultLimits)
			if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("decodeResponse: %v, want ErrProtocol naming %q", err, tc.want)
			}
		})
	}
}

// TestMalformedResponseAbandonsSession feeds a live client a malformed response: the call
// fails with ErrProtocol, the transaction is lost, and the next batch opens a new session.
func TestMalformedResponseAbandonsSession(t *testing.T) {
	ctx := context.Background()
	l := NewLoopback(InmemOpener)
	var bad []byte
	c := newClient(t, rtFunc(func(ctx context.Context, req []byte) ([]byte, error) {
		if bad != nil {
			b := bad
			bad = nil
			return b, nil
		}
		return l.RoundTrip(ctx, req)
	}), WithAcceptLoss()) // inmem is not durable: go on empty after a loss
	w, _ := c.Begin(ctx, true)
	must(t, w.Put(ctx, "ns", "k", []byte("v")))
	bad = resp(2, ok, ok, ok)
	if _, err := w.Get(ctx, "ns", "k"); !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "abandoned after a malformed response") {
		t.Fatalf("Get: %v", err)
	}
	if err := w.Put(ctx, "ns", "k", []byte("v")); err != nil {
		t.Fatalf("Put buffers without crossing: %v", err)
	}
	if err := w.Commit(ctx); !errors.Is(err, ErrProtocol) {
		t.Fatalf("Commit of a lost transaction: %v", err)
	}
	l.Record()
	must(t, c.Ping(ctx))
	if got := l.Requests(); fmt.Sprint(got) != fmt.Sprint([][]Op{{OpHello, OpPing}}) {
		t.Errorf("requests %v, want a new HELLO first", got)
	}
}

func TestMaxRequest(t *testing.T) {
	ctx := context.Background()
	l := NewLoopback(InmemOpener)
	c := newClient(t, rtFunc(func(ctx context.Context, req []byte) ([]byte, error) {
		out, err := l.RoundTrip(ctx, req)
		if err == nil && len(opsOf(req)) == 1 && opsOf(req)[0] == OpHello {
			binary.LittleEndian.PutUint32(out[len(out)-4:], 1000) // the guest declares MaxRequest 1000
		}
		return out, err
	}))
	if c.maxRequest != 1000 || c.writeBudget != 500 {
		t.Fatalf("maxRequest %d, writeBudget %d; want 1000, 500", c.maxRequest, c.writeBudget)
	}
	w, _ := c.Begin(ctx, true)
	if err := w.Put(ctx, "ns", "k", make([]byte, 1000)); !errors.Is(err, store.ErrTooLarge) {
		t.Fatalf("Put past MaxRequest: %v", err)
	}
	before := c.Stats().RoundTrips
	for i := range 10 {
		must(t, w.Put(ctx, "ns", fmt.Sprint(i), make([]byte, 200)))
	}
	must(t, w.Commit(ctx))
	if got := c.Stats().RoundTrips - before; got != 5 {
		t.Errorf("10 writes of ~220 bytes with a 500-byte budget: %d crossings, want 5", got)
	}
	r, _ := c.Begin(ctx, false)
	if _, err := r.Get(ctx, "ns", strings.Repeat("k", 1000)); !errors.Is(err, store.ErrTooLarge) {
		t.Fatalf("Get past MaxRequest: %v", err)
	}
}

// TestMaxRequestTooSmall: a guest declaring a maxRequest no request could fit is refused at
// HELLO, with an error naming the value and the minimum, instead of failing every operation.
func TestMaxRequestTooSmall(t *testing.T) {
	l := NewLoopback(InmemOpener)
	_, err := NewClient(context.Background(), rtFunc(func(ctx context.Context, req []byte) ([]byte, error) {
		out, err := l.RoundTrip(ctx, req)
		if err == nil && len(opsOf(req)) == 1 && opsOf(req)[0] == OpHello {
			binary.LittleEndian.PutUint32(out[len(out)-4:], 1) // the guest declares MaxRequest 1
		}
		return out, err
	}), Hello{})
	if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "maxRequest 1 ") || !strings.Contains(err.Error(), "minimum of 256") {
		t.Fatalf("NewClient = %v, want a protocol violation naming maxRequest 1 and the minimum", err)
	}
}

func TestContextBeforeCrossing(t *testing.T) {
	l := NewLoopback(InmemOpener)
	c := newClient(t, l)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := c.Stats().RoundTrips
	if err := c.Ping(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Ping: %v", err)
	}
	if c.Stats().RoundTrips != before {
		t.Errorf("a cancelled context crossed")
	}
}

// TestBreaksUnderLoad runs Views and Updates from several goroutines while instances break
// under them: every failure must be a lost instance, nothing may race or panic, and once the
// load stops the client works and holds no transaction ids.
func TestBreaksUnderLoad(t *testing.T) {
	ctx := context.Background()
	l := NewLoopback(InmemOpener)
	c := newClient(t, l, WithAcceptLoss()) // inmem is not durable: go on empty after a loss
	s := pdk.NewStore(c)
	done := make(chan struct{})
	errs := make(chan error, 64)
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				var err error
				if (g+i)%3 == 0 {
					err = s.Update(ctx, func(tx store.Tx) error {
						if _, err := tx.Get("ns", "k"); err != nil && !errors.Is(err, store.ErrNotFound) {
							return err
						}
						return tx.Put("ns", "k", []byte(fmt.Sprint(i)))
					})
				} else {
					err = s.View(ctx, func(tx store.Tx) error {
						_, err := tx.Get("ns", "k")
						if errors.Is(err, store.ErrNotFound) {
							return nil
						}
						return err
					})
				}
				if err != nil && !errors.Is(err, ErrBroken) {
					errs <- err
					return
				}
			}
		}()
	}
	for range 20 {
		time.Sleep(2 * time.Millisecond)
		l.FailNext(fmt.Errorf("trap: %w", ErrBroken))
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("unexpected error under load: %v", err)
	}
	must(t, s.Ping(ctx))
	if c.Stats().Reopens == 0 {
		t.Fatalf("no instance broke under the load")
	}
	must(t, s.View(ctx, func(tx store.Tx) error { _, err := tx.Scan("ns", ""); return err }))
	must(t, c.Ping(ctx)) // sends the last View's queued ROLLBACK
	c.mu.Lock()
	live, queued := c.live.Len(), len(c.queue)
	c.mu.Unlock()
	if live != 0 || queued != 0 {
		t.Errorf("after the load: %d live transactions, %d queued rollbacks; want 0, 0", live, queued)
	}
	must(t, s.Close())
}

// TestCommitOutcomeUnknown: when the instance is lost in the crossing that carries a COMMIT,
// the guest may have committed, so Commit's error says the outcome is unknown; a lost crossing
// without a COMMIT, or a COMMIT of a transaction lost earlier, is a plain loss.
func TestCommitOutcomeUnknown(t *testing.T) {
	ctx := context.Background()
	l := NewLoopback(InmemOpener)
	c := newClient(t, l, WithAcceptLoss()) // inmem is not durable: go on empty after a loss

	w, _ := c.Begin(ctx, true)
	must(t, w.Put(ctx, "ns", "k", []byte("v")))
	l.FailNext(fmt.Errorf("plugin process exited: %w", ErrBroken))
	err := w.Commit(ctx)
	if !errors.Is(err, store.ErrCommitUnknown) || !errors.Is(err, ErrBroken) {
		t.Fatalf("Commit in the lost crossing: %v, want ErrCommitUnknown and ErrBroken", err)
	}
	if !strings.Contains(err.Error(), "plugin process exited") {
		t.Errorf("Commit error %q does not say why", err)
	}

	w1, _ := c.Begin(ctx, true)
	if _, err := w1.Get(ctx, "ns", "k"); !errors.Is(err, store.ErrNotFound) { // w1 reaches the guest
		t.Fatal(err)
	}
	must(t, w1.Put(ctx, "ns", "k", []byte("v")))
	l.FailNext(fmt.Errorf("plugin process found dead: %w (%w)", ErrBroken, ErrNotDelivered))
	if err := w1.Commit(ctx); errors.Is(err, store.ErrCommitUnknown) || !errors.Is(err, ErrBroken) {
		t.Fatalf("Commit not delivered: %v, want ErrBroken only", err)
	}

	r, _ := c.Begin(ctx, false)
	l.FailNext(fmt.Errorf("plugin process exited: %w", ErrBroken))
	if _, err := r.Get(ctx, "ns", "k"); errors.Is(err, store.ErrCommitUnknown) || !errors.Is(err, ErrBroken) {
		t.Fatalf("Get in a lost crossing: %v, want ErrBroken only", err)
	}
	must(t, r.Rollback())

	w2, _ := c.Begin(ctx, true)
	if _, err := w2.Get(ctx, "ns", "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	l.FailNext(fmt.Errorf("plugin process exited: %w", ErrBroken))
	_ = c.Ping(ctx) // loses w2 in a crossing of its own
	if err := w2.Commit(ctx); errors.Is(err, store.ErrCommitUnknown) || !errors.Is(err, ErrBroken) {
		t.Fatalf("Commit of a transaction lost before: %v, want ErrBroken only", err)
	}
}

// TestNotDeliveredIsSentAgain: a request that never reached the guest, because its instance
// was already gone, is sent once more to the next instance, with HELLO, when it starts no
// earlier transaction's work; a transaction that had reached the lost instance fails.
func TestNotDeliveredIsSentAgain(t *testing.T) {
	ctx := context.Background()
	l := NewLoopback(InmemOpener)
	c := newClient(t, l, WithAcceptLoss()) // inmem is not durable: go on empty after a loss
	gone := fmt.Errorf("plugin process found dead: %w (%w)", ErrBroken, ErrNotDelivered)

	old, _ := c.Begin(ctx, false)
	if _, err := old.Get(ctx, "ns", "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	l.FailNext(gone)
	l.Record()
	w, _ := c.Begin(ctx, true)
	must(t, w.Put(ctx, "ns", "k", []byte("v")))
	must(t, w.Commit(ctx)) // BEGIN, PUT, COMMIT: nothing of it reached the lost instance
	if got, want := l.Requests(), [][]Op{{OpHello, OpBegin, OpPut, OpCommit}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests: %v, want %v", got, want)
	}
	if _, err := old.Get(ctx, "ns", "k"); !errors.Is(err, ErrBroken) {
		t.Fatalf("Get of a transaction begun on the lost instance: %v, want ErrBroken", err)
	}
	must(t, old.Rollback())
	r, _ := c.Begin(ctx, false)
	if v, err := r.Get(ctx, "ns", "k"); err != nil || string(v) != "v" {
		t.Fatalf("Get after the redelivered commit: %q, %v", v, err)
	}
	must(t, r.Rollback())

	l.FailNext(gone)
	l.FailNext(gone)
	if err := c.Ping(ctx); !errors.Is(err, ErrBroken) {
		t.Fatalf("Ping when two instances in a row are gone: %v, want ErrBroken (sent again once only)", err)
	}
	must(t, c.Ping(ctx))
}
