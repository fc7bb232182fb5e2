// Package abi is the wire form of the Dockyard driver ABI: the request and response frames
// that cross every boundary between a host and a driver that does not run in the host's
// process or address space (a WebAssembly module's linear memory, a plugin's gRPC stream).
// docs/abi.md is the normative description; this package is its Go implementation.
//
// Both ends live here, as in net/http: the codec (Encoder, Decoder), the guest-side
// Dispatcher that serves any pdk.Driver from request frames, and the host-side Client that is a
// pdk.Driver speaking frames through a RoundTripper. A transport (host/wasmhost, host/pluginhost) only
// moves opaque frames; it never interprets them.
//
// # Shape
//
// A request frame carries a batch of operations; the guest executes them in order and answers
// with one response frame holding one result per executed operation. Transactions are handles
// chosen by the host (so a batch can begin a transaction and use it in the same crossing).
// Execution stops at the first operation whose status is a failure; NotFound is a result, not a
// failure. The Client buffers writes and sends them with the next read or with the commit, so
// a write-only Update is one crossing; it begins transactions lazily with their first
// operation and ends read transactions with the next crossing, so a View with one Get is one
// crossing.
package abi

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dockyard/dockyard/store"
)

// The ABI version this package speaks. A peer with another major is refused; minors are
// compatible both ways (a newer peer only adds what an older one may ignore, and uses an
// addition only with a peer whose minor has it). Minor 1 added the status CommitUnknown;
// minor 2 the operation HelloReadOnly and the status NoStore.
const (
	Major = 1
	Minor = 2
)

// Frame magics: the first four bytes of every frame.
var (
	RequestMagic  = [4]byte{'D', 'Y', 'Q', 0}
	ResponseMagic = [4]byte{'D', 'Y', 'R', 0}
)

// HeaderSize is the size of a frame header: magic (4), major (u16), minor (u16), count (u32).
const HeaderSize = 12

// Op is an operation code.
type Op uint8

// Operation codes. Field layouts are in docs/abi.md.
const (
	OpHello    Op = 1  // open the session: versions, DSN, options -> driver info
	OpBegin    Op = 2  // tx u32, writable u8
	OpGet      Op = 3  // tx u32, ns bytes, key bytes -> value bytes
	OpPut      Op = 4  // tx u32, ns bytes, key bytes, value bytes
	OpDelete   Op = 5  // tx u32, ns bytes, key bytes
	OpScan     Op = 6  // tx u32, ns bytes, prefix bytes, after bytes, limit u32 -> n u32, n*(key bytes, value bytes), more u8
	OpCommit   Op = 7  // tx u32
	OpRollback Op = 8  // tx u32
	OpPing     Op = 9  // -
	OpClose    Op = 10 // - : close the driver; the session ends
	// OpHelloReadOnly is HELLO opening the session read-only (ABI 1.2): same fields and
	// answer; the driver creates and changes nothing, a missing store is NoStore, and a
	// writable BEGIN is ReadOnly. A 1.0 or 1.1 guest answers it BAD_FRAME (an unknown op code),
	// having opened nothing.
	OpHelloReadOnly Op = 11
)

// String returns the op's name as docs/abi.md spells it, e.g. "GET".
func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

var opNames = [...]string{OpHello: "HELLO", OpBegin: "BEGIN", OpGet: "GET", OpPut: "PUT",
	OpDelete: "DELETE", OpScan: "SCAN", OpCommit: "COMMIT", OpRollback: "ROLLBACK",
	OpPing: "PING", OpClose: "CLOSE", OpHelloReadOnly: "HELLO_READONLY"}

// Status is the outcome of one operation. Codes 1-11 map one to one onto the store package's
// sentinel errors; the others are the ABI's own. Every status but OK and NotFound is a failure
// and stops the batch; every failure carries a message.
type Status uint8

// Status codes.
const (
	OK                  Status = 0
	NotFound            Status = 1  // store.ErrNotFound
	UnknownDriver       Status = 2  // store.ErrUnknownDriver
	Closed              Status = 3  // store.ErrClosed
	MigrationOutOfOrder Status = 4  // store.ErrMigrationOutOfOrder
	ReadOnly            Status = 5  // store.ErrReadOnly
	DuplicateDriver     Status = 6  // store.ErrDuplicateDriver
	DuplicateMigration  Status = 7  // store.ErrDuplicateMigration
	TxDone              Status = 8  // store.ErrTxDone
	InvalidKey          Status = 9  // store.ErrInvalidKey
	TooLarge            Status = 10 // store.ErrTooLarge
	CommitUnknown       Status = 11 // store.ErrCommitUnknown; ABI 1.1 (a 1.0 peer gets Failed)
	NoStore             Status = 12 // store.ErrNoStore; ABI 1.2 (an older peer gets Failed)
	Failed              Status = 32 // any other driver error; the message says what
	BadFrame            Status = 33 // the request frame or an operation in it is malformed
	Incompatible        Status = 34 // the request's ABI major is not the guest's
	UnknownTx           Status = 35 // the operation names a transaction that is not open
	NotOpen             Status = 36 // an operation other than HELLO before a successful HELLO
)

// sentinels maps the statuses that stand for store sentinels to them, and back.
var sentinels = map[Status]error{
	NotFound:            store.ErrNotFound,
	UnknownDriver:       store.ErrUnknownDriver,
	Closed:              store.ErrClosed,
	MigrationOutOfOrder: store.ErrMigrationOutOfOrder,
	ReadOnly:            store.ErrReadOnly,
	DuplicateDriver:     store.ErrDuplicateDriver,
	DuplicateMigration:  store.ErrDuplicateMigration,
	TxDone:              store.ErrTxDone,
	InvalidKey:          store.ErrInvalidKey,
	TooLarge:            store.ErrTooLarge,
	CommitUnknown:       store.ErrCommitUnknown,
	NoStore:             store.ErrNoStore,
}

// ErrProtocol is wrapped by every error that reports a peer breaking the ABI: a malformed
// frame, an unknown status, a response that does not answer the request.
var ErrProtocol = errors.New("abi: protocol violation")

// ErrIncompatible is wrapped by the error for a peer speaking another ABI major.
var ErrIncompatible = errors.New("abi: incompatible ABI version")

// statusOrder fixes the order in which StatusOf tries the sentinels, so an error wrapping
// several of them (errors.Join) always gets the same status: the lowest code wins.
var statusOrder = [...]Status{NotFound, UnknownDriver, Closed, MigrationOutOfOrder, ReadOnly,
	DuplicateDriver, DuplicateMigration, TxDone, InvalidKey, TooLarge, CommitUnknown, NoStore}

// StatusOf returns the status for err: OK for nil, the sentinel's status for an error that
// wraps a store sentinel (the lowest code if it wraps several), Failed otherwise. It answers
// for a peer of this package's minor; see StatusFor.
func StatusOf(err error) Status {
	if err == nil {
		return OK
	}
	for _, st := range statusOrder {
		if errors.Is(err, sentinels[st]) {
			return st
		}
	}
	return Failed
}

// StatusFor is StatusOf for a peer speaking ABI 1.minor: a status that minor does not have (a
// 1.0 host has no CommitUnknown) becomes Failed, whose message still says what happened.
func StatusFor(err error, minor uint16) Status {
	st := StatusOf(err)
	if !st.knownIn(minor) {
		return Failed
	}
	return st
}

// Err turns a status and its message into an error: one wrapping the matching store sentinel
// where there is one, so errors.Is works across the boundary.
func (s Status) Err(msg string) error {
	if s == OK {
		return nil
	}
	if sentinel, ok := sentinels[s]; ok {
		switch {
		case msg == "" || msg == sentinel.Error():
			return sentinel
		case strings.Contains(msg, sentinel.Error()):
			return &guestError{msg: msg, sentinel: sentinel} // the guest wrapped it already
		}
		return fmt.Errorf("%s: %w", msg, sentinel)
	}
	switch s {
	case BadFrame, UnknownTx, NotOpen:
		return fmt.Errorf("%w: guest reports %s: %s", ErrProtocol, s, msg)
	case Incompatible:
		return fmt.Errorf("%w: %s", ErrIncompatible, msg)
	case Failed:
		return errors.New(msg)
	}
	return fmt.Errorf("%w: unknown status %d: %s", ErrProtocol, uint8(s), msg)
}

// guestError is a guest's message that already names the sentinel it wraps.
type guestError struct {
	msg      string
	sentinel error
}

func (e *guestError) Error() string { return e.msg }
func (e *guestError) Unwrap() error { return e.sentinel }

// Failure reports whether s stops a batch.
func (s Status) Failure() bool { return s != OK && s != NotFound }

// String returns the status's name as docs/abi.md spells it, e.g. "NOT_FOUND".
func (s Status) String() string {
	if int(s) < len(statusNames) && statusNames[s] != "" {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

var statusNames = [...]string{OK: "OK", NotFound: "NOT_FOUND", UnknownDriver: "UNKNOWN_DRIVER",
	Closed: "CLOSED", MigrationOutOfOrder: "MIGRATION_OUT_OF_ORDER", ReadOnly: "READ_ONLY",
	DuplicateDriver: "DUPLICATE_DRIVER", DuplicateMigration: "DUPLICATE_MIGRATION",
	TxDone: "TX_DONE", InvalidKey: "INVALID_KEY", TooLarge: "TOO_LARGE", CommitUnknown: "COMMIT_UNKNOWN", NoStore: "NO_STORE",
	Failed:   "FAILED",
	BadFrame: "BAD_FRAME", Incompatible: "INCOMPATIBLE", UnknownTx: "UNKNOWN_TX",
	NotOpen: "NOT_OPEN"}

// knownIn reports whether s is a status code of ABI 1.minor.
func (s Status) knownIn(minor uint16) bool {
	switch s {
	case CommitUnknown:
		return minor >= 1
	case NoStore:
		return minor >= 2
	}
	return int(s) < len(statusNames) && statusNames[s] != ""
}

// Hello is what the host sends to open a session.
type Hello struct {
	Major, Minor uint16
	// DSN is the data source the guest's driver opens: for a wasm guest, a path inside its
	// sandbox (the mounted data directory), or empty.
	DSN string
	// Options are free-form driver options (the manifest's), JSON by convention.
	Options []byte
	// ReadOnly opens the session read-only (HELLO_READONLY, ABI 1.2, for store.OpenReadOnly):
	// the Opener must open the driver without creating or changing anything, failing with an
	// error wrapping store.ErrNoStore when there is no store; the Dispatcher refuses writable
	// BEGINs of the session itself.
	ReadOnly bool
}

// HelloReply is the guest's answer to HELLO: its ABI version and its driver's description.
type HelloReply struct {
	Major, Minor uint16
	Name         string
	Version      string
	// Flags: FlagDurable, FlagConcurrentReaders.
	Flags uint8
	// Size limits the driver accepts; 0 means the store's limit.
	MaxKeySize, MaxValueSize, MaxNamespaceSize uint32
	// MaxRequest is the largest request frame the guest accepts; 0 means no limit of its own.
	MaxRequest uint32
}

// Capability flags in HelloReply.Flags. Bits not defined here are reserved: a guest sends them as
// zero, a host ignores them.
const (
	FlagDurable           = 1 << 0
	FlagConcurrentReaders = 1 << 1
)

// RoundTripper moves one request frame to the guest and returns its response frame. It is
// the whole of a transport. Calls may be concurrent; a transport serializes them if its guest
// cannot take concurrent calls. The returned slice belongs to the caller; req is the caller's
// again when RoundTrip returns (the Client reuses it), so a transport must not keep it.
//
// An error means the crossing itself failed (a trap, a deadline, a dead process). If the
// error wraps ErrBroken, the guest instance is gone: its transactions and session are lost,
// and the next RoundTrip reaches a fresh instance that has not seen HELLO. An error that does
// not wrap ErrBroken promises that the guest did not see the request (for example, ctx ended
// before the crossing began): a transport that cannot tell whether the guest saw it must
// discard the instance and return ErrBroken. The Client relies on this to resend what the
// lost request carried for other transactions.
type RoundTripper interface {
	RoundTrip(ctx context.Context, req []byte) ([]byte, error)
}

// Discarder is implemented by a RoundTripper that can discard its guest instance when the
// Client asks: after a malformed response, which may be one of a guest that has fallen out of
// step with its requests (a plugin that sent an answer too many), so that the next HELLO
// reaches a fresh instance instead of one whose answers may belong to earlier requests.
type Discarder interface {
	Discard(cause error)
}

// ErrBroken is wrapped by transport errors after which the guest instance was discarded.
var ErrBroken = errors.New("abi: guest instance discarded")

// ErrNotDelivered is wrapped, beside ErrBroken, by a transport error for a request that never
// reached the guest because its instance was already gone (a plugin process found dead before
// the send). The session is lost all the same, but a COMMIT the request carried certainly did
// not run, so the Client does not report it as store.ErrCommitUnknown.
var ErrNotDelivered = errors.New("abi: request not delivered")
