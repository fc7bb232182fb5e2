package abi

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"unsafe"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// Opener opens the guest's driver when the host says HELLO.
type Opener func(ctx context.Context, h Hello) (pdk.Driver, error)

// ScanPageBudget bounds the bytes of a SCAN result's payload: the dispatcher stops adding
// entries to a page once the next one would take it past the budget, and then reports more
// (the first entry is always included, so a page is never empty for want of room).
const ScanPageBudget = 1 << 20

// MaxScanLimit is the largest limit the dispatcher passes to a driver's Scan; a host asking
// for more gets at most this many entries, with more set if the driver says so.
const MaxScanLimit = 1 << 16

// maxMessage bounds the failure messages the dispatcher sends.
const maxMessage = 4 << 10

// Dispatcher is the guest side of the ABI: it decodes request frames, calls a pdk.Driver, and
// encodes the response frames. It serves one session at a time (HELLO to CLOSE) and keeps
// the session's open transactions by the ids the host chose. Handle may be called from
// several goroutines; calls run one at a time.
//
// The dispatcher enforces the protocol, not the seam: it maps driver errors to statuses with
// StatusOf and leaves validation (sizes, read-only, empty keys) to the host's pdk adapter.
type Dispatcher struct {
	open  Opener
	admit func(size int) error // nil: every write is admitted

	mu  sync.Mutex
	drv pdk.Driver       // nil when no session is open
	txs idTable[pdk.Txn] // the session's open transactions
	// readOnly: the session was opened by HELLO_READONLY, so writable BEGINs are refused.
	readOnly bool
	// hostMinor is the ABI minor of the request being handled (its header's): a result uses
	// only the statuses that minor has.
	hostMinor uint16
	// names holds the namespaces of recent operations, next the slot to replace: a batch of
	// operations on a few namespaces converts each to a string once, not once per operation.
	names [4]string
	next  int
}

// keptOps is how many operations of a frame the check keeps decoded for the run, so that they
// are not decoded a second time: enough for a View's GET frame (the last View's queued ROLLBACK,
// BEGIN, GET) and a one-Put Update's (BEGIN, the namespace catalog's PUT, PUT, COMMIT). Later
// operations are decoded again. They are kept on the stack, not in the Dispatcher: a decoded
// operation holds pointers into the frame, and writing them into the heap costs a write
// barrier each whenever the collector is marking, more than decoding them again.
const keptOps = 4

// namespace returns b as a string, the same string as for recent operations when it can. The
// strings are copies, never aliases of the request: a driver may keep them (Put does).
func (d *Dispatcher) namespace(b []byte) string {
	for _, s := range &d.names {
		if s == string(b) {
			return s
		}
	}
	s := string(b)
	d.names[d.next] = s
	d.next = (d.next + 1) % len(d.names)
	return s
}

// DispatcherOption configures NewDispatcher.
type DispatcherOption func(*Dispatcher)

// WithWriteAdmission makes the dispatcher call admit before each PUT with the bytes the write
// adds (its namespace, key and value). An error refuses the PUT with that error (the driver
// never sees it) and, as any failure, stops the batch; the transaction stays open for the host
// to roll back. pdk/wasmguest uses it to refuse writes that would take a guest past its memory
// limit, instead of trapping there.
func WithWriteAdmission(admit func(size int) error) DispatcherOption {
	return func(d *Dispatcher) { d.admit = admit }
}

// NewDispatcher returns a dispatcher that opens its driver with open on HELLO.
func NewDispatcher(open Opener, opts ...DispatcherOption) *Dispatcher {
	d := &Dispatcher{open: open}
	for _, o := range opts {
		o(d)
	}
	return d
}

// Handle executes one request frame and appends the response frame to out[:0], returning it.
// It never panics on any input (a driver panic becomes a Failed status).
//
// A frame that is malformed anywhere, or speaks another ABI major, is refused whole: nothing
// is executed and the response holds one result, BAD_FRAME or INCOMPATIBLE. Otherwise the
// operations run in order until the first failure, with one result each.
func (d *Dispatcher) Handle(ctx context.Context, req, out []byte) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	e := NewEncoder(out)
	e.AppendHeader(ResponseMagic, Major, Minor, 0)
	e.SetCount(d.handle(ctx, req, &e))
	return e.Bytes()
}

// handle appends the results of req to e and returns how many it appended.
func (d *Dispatcher) handle(ctx context.Context, req []byte, e *Encoder) uint32 {
	dec := NewDecoder(req)
	h, err := decodeHeader(&dec, RequestMagic, "request")
	if err != nil {
		appendFailure(e, BadFrame, err.Error())
		return 1
	}
	if h.major != Major {
		appendFailure(e, Incompatible, versionMismatch(h.major, h.minor))
		return 1
	}
	d.hostMinor = h.minor
	var ops [keptOps + 1]request // the kept operations, then the spare for the others
	keep, spare := ops[:min(int(h.count), keptOps)], &ops[keptOps]
	resume, err := checkRequest(&dec, h.count, keep, spare)
	if err != nil {
		appendFailure(e, BadFrame, err.Error())
		return 1
	}
	dec.off = resume
	return d.run(ctx, &dec, keep, spare, h.count, e)
}

// run executes the count operations of a checked frame, appending one result each, until the
// first failure, and returns how many results it appended: first those the check decoded into
// kept, then the rest read from dec into spare. A driver panic is recovered into a FAILED result
// naming the operation; the transaction it happened in is dropped.
func (d *Dispatcher) run(ctx context.Context, dec *Decoder, kept []request, spare *request, count uint32, e *Encoder) (n uint32) {
	r := spare
	mark := 0
	defer func() {
		if p := recover(); p != nil {
			e.buf = e.buf[:mark]
			d.afterPanic(r)
			appendFailure(e, Failed, fmt.Sprintf("driver panicked in %s: %v", r.op, p))
			n++ // the panicking operation's result
		}
	}()
	for n = 0; n < count; n++ {
		if int(n) < len(kept) {
			r = &kept[n]
		} else {
			r = spare
			decodeOp(dec, r) // checked already
		}
		r.index = int(n)
		mark = e.Len()
		if d.exec(ctx, r, e).Failure() {
			return n + 1
		}
	}
	return count
}

// versionMismatch is the message of an INCOMPATIBLE result.
func versionMismatch(hostMajor, hostMinor uint16) string {
	return fmt.Sprintf("host speaks ABI %d.%d, guest speaks ABI %d.%d", hostMajor, hostMinor, Major, Minor)
}

// appendFailure appends a failure result: its status and message.
func appendFailure(e *Encoder, st Status, msg string) Status {
	if len(msg) > maxMessage {
		msg = msg[:maxMessage]
	}
	e.AppendU8(uint8(st))
	e.AppendString(msg)
	return st
}

// appendErr appends the result of an operation that returned err, which is OK when err is
// nil. NOT_FOUND is a result of GET only: for any other operation a not-found error is FAILED.
// A status the host's minor does not have is FAILED too (StatusFor).
func (d *Dispatcher) appendErr(e *Encoder, op Op, err error) Status {
	if err == nil {
		e.AppendU8(uint8(OK))
		return OK
	}
	return d.appendError(e, op, err)
}

// appendError is appendErr for an error that is not nil.
func (d *Dispatcher) appendError(e *Encoder, op Op, err error) Status {
	st := StatusFor(err, d.hostMinor)
	switch {
	case st == NotFound && op == OpGet:
		e.AppendU8(uint8(NotFound))
		return NotFound
	case st == NotFound:
		st = Failed
	}
	return appendFailure(e, st, err.Error())
}

// exec runs one operation and appends its result.
func (d *Dispatcher) exec(ctx context.Context, r *request, e *Encoder) Status {
	if r.op == OpHello || r.op == OpHelloReadOnly {
		return d.hello(ctx, r, e)
	}
	if d.drv == nil {
		return appendFailure(e, NotOpen, fmt.Sprintf("%s before HELLO: no session is open", r.op))
	}
	switch r.op {
	case OpBegin:
		if _, open := d.txs.get(r.tx); open {
			return appendFailure(e, BadFrame, fmt.Sprintf("op %d (BEGIN) at offset %d: transaction %d is already open", r.index, r.offset, r.tx))
		}
		if r.writable && d.readOnly { // whatever the driver would do: the session was opened read-only
			return d.appendErr(e, r.op, fmt.Errorf("%w: the session was opened read-only (HELLO_READONLY)", store.ErrReadOnly))
		}
		tx, err := d.drv.Begin(ctx, r.writable)
		if err == nil && tx == nil {
			err = errors.New("driver's Begin returned no transaction and no error")
		}
		if err == nil {
			d.txs.add(r.tx, tx)
		}
		return d.appendErr(e, r.op, err)
	case OpPing:
		return d.appendErr(e, r.op, d.drv.Ping(ctx))
	case OpClose:
		return d.appendErr(e, r.op, d.closeSession())
	}
	tx, ok := d.txs.get(r.tx)
	if !ok {
		return appendFailure(e, UnknownTx, fmt.Sprintf("%s: transaction %d is not open", r.op, r.tx))
	}
	switch r.op {
	case OpGet:
		if ga, ok := tx.(pdk.GetAppender); ok {
			return d.getAppend(ctx, ga, d.namespace(r.ns), r, e)
		}
		v, err := tx.Get(ctx, d.namespace(r.ns), string(r.key))
		st := d.appendErr(e, r.op, err)
		if st == OK {
			e.AppendBytes(v)
		}
		return st
	case OpPut:
		if d.admit != nil {
			if err := d.admit(len(r.ns) + len(r.key) + len(r.value)); err != nil {
				return d.appendError(e, r.op, err)
			}
		}
		// The value may alias the request: the pdk contract forbids Put to retain it.
		return d.appendErr(e, r.op, tx.Put(ctx, d.namespace(r.ns), string(r.key), r.value))
	case OpDelete:
		return d.appendErr(e, r.op, tx.Delete(ctx, d.namespace(r.ns), string(r.key)))
	case OpScan:
		return d.scan(ctx, tx, r, e)
	case OpCommit:
		d.txs.remove(r.tx) // a transaction ends with its COMMIT, whatever the outcome
		return d.appendErr(e, r.op, tx.Commit(ctx))
	default: // OpRollback: decodeOp admits no other op code
		d.txs.remove(r.tx)
		return d.appendErr(e, r.op, tx.Rollback())
	}
}

// getAppend runs a GET through the driver's GetAppend, which appends the value straight into
// the response: the key it is given aliases the request (GetAppend must not retain it), and
// the value is not copied on the way.
func (d *Dispatcher) getAppend(ctx context.Context, ga pdk.GetAppender, ns string, r *request, e *Encoder) Status {
	mark := e.Len()
	e.AppendU8(uint8(OK))
	e.AppendU32(0) // the value's length, known once it is appended
	start := e.Len()
	buf, err := ga.GetAppend(ctx, ns, unsafe.String(unsafe.SliceData(r.key), len(r.key)), e.buf)
	if err == nil && len(buf) < start {
		err = errors.New("driver's GetAppend returned less than it was given")
	}
	if err != nil {
		e.buf = e.buf[:mark]
		return d.appendErr(e, r.op, err)
	}
	e.buf = buf
	binary.LittleEndian.PutUint32(e.buf[start-4:start], uint32(len(buf)-start))
	return OK
}

// scan runs a SCAN and appends its result, bounding the page by ScanPageBudget.
func (d *Dispatcher) scan(ctx context.Context, tx pdk.Txn, r *request, e *Encoder) Status {
	limit := min(int(r.limit), MaxScanLimit)
	page, more, err := tx.Scan(ctx, d.namespace(r.ns), string(r.prefix), string(r.after), limit)
	if st := d.appendErr(e, r.op, err); st != OK {
		return st
	}
	n, size := 0, 4+1 // the count and the more flag
	for _, kv := range page {
		entry := 8 + len(kv.Key) + len(kv.Value)
		if n > 0 && size+entry > ScanPageBudget {
			more = true
			break
		}
		n, size = n+1, size+entry
	}
	e.AppendU32(uint32(n))
	for _, kv := range page[:n] {
		e.AppendString(kv.Key)
		e.AppendBytes(kv.Value)
	}
	if more {
		e.AppendU8(1)
	} else {
		e.AppendU8(0)
	}
	return OK
}

// hello opens a session, first ending any session that is open as CLOSE would.
func (d *Dispatcher) hello(ctx context.Context, r *request, e *Encoder) Status {
	if r.major != Major {
		return appendFailure(e, Incompatible, versionMismatch(r.major, r.minor))
	}
	if d.drv != nil {
		_ = d.closeSession() // documented: HELLO on an open session starts a new one
	}
	if d.open == nil {
		return appendFailure(e, Failed, "the guest has no driver to open (nil Opener)")
	}
	d.readOnly = r.op == OpHelloReadOnly
	drv, err := d.open(ctx, Hello{Major: r.major, Minor: r.minor, DSN: string(r.dsn), Options: slices.Clone(r.options),
		ReadOnly: d.readOnly})
	if err == nil && drv == nil {
		err = errors.New("the guest's Opener returned no driver and no error")
	}
	if err != nil {
		return d.appendErr(e, r.op, err)
	}
	d.drv = drv
	info := drv.Info() // a panic here ends the session again (afterPanic)
	e.AppendU8(uint8(OK))
	e.appendInfo(infoOf(info))
	return OK
}

// infoOf builds the HELLO answer from a driver's description.
func infoOf(info pdk.Info) HelloReply {
	var flags uint8
	if info.Caps.Durable {
		flags |= FlagDurable
	}
	if info.Caps.ConcurrentReaders {
		flags |= FlagConcurrentReaders
	}
	return HelloReply{
		Major: Major, Minor: Minor, Name: info.Name, Version: info.Version, Flags: flags,
		MaxKeySize: u32(info.Caps.MaxKeySize), MaxValueSize: u32(info.Caps.MaxValueSize),
		MaxNamespaceSize: u32(info.Caps.MaxNamespaceSize),
	}
}

// u32 clamps n into a u32; a negative size means "the store's limit", as zero does.
func u32(n int) uint32 {
	switch {
	case n <= 0:
		return 0
	case uint64(n) > 1<<32-1:
		return 1<<32 - 1
	}
	return uint32(n)
}

// appendInfo appends the payload of a HELLO result.
func (e *Encoder) appendInfo(i HelloReply) {
	e.AppendU16(i.Major)
	e.AppendU16(i.Minor)
	e.AppendString(i.Name)
	e.AppendString(i.Version)
	e.AppendU8(i.Flags)
	e.AppendU32(i.MaxKeySize)
	e.AppendU32(i.MaxValueSize)
	e.AppendU32(i.MaxNamespaceSize)
	e.AppendU32(i.MaxRequest)
}

// Close ends the session the host left open, as CLOSE would: every open transaction is rolled
// back and the driver closed. A transport calls it when its host went away without CLOSE (a
// plugin's stream ended), so the driver releases its files and locks. Without a session it does
// nothing; a later HELLO starts a new one.
func (d *Dispatcher) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.drv == nil {
		return nil
	}
	return d.closeSession()
}

// closeSession rolls back every open transaction (in id order), closes the driver and ends the
// session, whatever fails on the way. It returns the first failure.
func (d *Dispatcher) closeSession() error {
	drv := d.drv
	d.drv = nil
	var first error
	for _, id := range slices.Sorted(slices.Values(d.txs.ids)) {
		tx, _ := d.txs.get(id)
		d.txs.remove(id)
		if err := quietly(tx.Rollback); err != nil && first == nil {
			first = fmt.Errorf("rolling back transaction %d: %w", id, err)
		}
	}
	if err := quietly(drv.Close); err != nil && first == nil {
		first = err
	}
	return first
}

// afterPanic cleans up after a driver panicked in r: the transaction r named is dropped (and
// rolled back if it was still open, ignoring any failure); a panic in HELLO or CLOSE leaves no
// session open.
func (d *Dispatcher) afterPanic(r *request) {
	switch r.op {
	case OpHello, OpHelloReadOnly, OpClose:
		if d.drv != nil {
			_ = d.closeSession()
		}
		d.drv = nil
	case OpGet, OpPut, OpDelete, OpScan:
		if tx, ok := d.txs.get(r.tx); ok {
			d.txs.remove(r.tx)
			_ = quietly(tx.Rollback)
		}
	}
}

// quietly calls f and turns a panic into an error.
func quietly(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("driver panicked: %v", p)
		}
	}()
	return f()
}
