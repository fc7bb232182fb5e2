// Package pdk is the Dockyard driver kit: the contract a storage driver implements, in Go, and
// the one adapter (NewStore) that turns any such driver into a store.Store.
//
// The split mirrors database/sql and database/sql/driver. A driver provides primitives only —
// begin a transaction handle; get, put, delete and scan a page of a prefix inside it; commit;
// roll back — and declares what it can do in Capabilities. The adapter owns every rule of the
// seam: rollback when the callback fails or panics, ErrReadOnly in View, ErrTxDone for a Tx
// used after its callback, ErrClosed after Close, Close waiting for transactions in flight,
// context cancellation, key and size validation, assembling paged scans into Tx.Scan's result,
// and Migrate through store.RunMigrations. Because the rules live here once, no driver can get
// them subtly wrong, and the same Driver interface is what the wasm and plugin transports serve
// and consume.
//
// # What the adapter guarantees a driver
//
//   - At most one writable Txn is open at a time per Driver value.
//   - If Capabilities.ConcurrentReaders is false, no Txn is begun while a writable Txn is open,
//     and no writable Txn is begun while any Txn is open: the driver is never asked to block.
//   - Every namespace and key is non-empty and within the store size limits; every Txn ends with
//     exactly one Commit or Rollback (Commit only for writable ones that were not rolled back),
//     and no method is called on it afterwards; a Txn is used by one goroutine at a time.
//   - Close is called once, after every Txn has ended.
//
// # What a driver guarantees the adapter
//
//   - Get returns store.ErrNotFound (possibly wrapped) for an absent key, and a slice the driver
//     never touches again. Put does not retain its value slice after returning.
//   - A read Txn sees one consistent snapshot; a writable Txn sees its own writes, in Get and
//     in Scan; Commit is atomic and, if Capabilities.Durable, durable when it returns.
//   - Scan orders keys by byte order and treats the prefix as a byte prefix.
package pdk

import (
	"context"

	"github.com/dockyard/dockyard/store"
)

// Driver is a storage backend. See the package documentation for the contract.
type Driver interface {
	// Info describes the driver. It is called once, by NewStore.
	Info() Info

	// Begin opens a transaction handle. A writable Txn may change data; a read-only one may not
	// and is never asked to.
	Begin(ctx context.Context, writable bool) (Txn, error)

	// Ping reports whether the backend is reachable and usable. The adapter does not gate it:
	// it may run beside any open transaction and must never wait for one.
	Ping(ctx context.Context) error

	// Close releases the driver's resources.
	Close() error
}

// Txn is a transaction handle opened by Driver.Begin.
type Txn interface {
	// Get returns the value of (ns, key), or an error wrapping store.ErrNotFound.
	Get(ctx context.Context, ns, key string) ([]byte, error)

	// Put sets (ns, key) to value. Only called on writable handles.
	Put(ctx context.Context, ns, key string, value []byte) error

	// Delete removes (ns, key); absent keys are not an error. Only called on writable handles.
	Delete(ctx context.Context, ns, key string) error

	// Scan returns one page of the entries of ns whose key starts with prefix and is strictly
	// greater than after (after == "" means from the start), in byte order, at most limit
	// entries (limit > 0). more reports whether entries beyond the page may exist; a driver may
	// return fewer than limit entries with more set, for example to bound a page's bytes.
	Scan(ctx context.Context, ns, prefix, after string, limit int) (page []store.KeyValue, more bool, err error)

	// Commit makes a writable transaction's changes visible (and durable, if the driver is).
	Commit(ctx context.Context) error

	// Rollback discards the transaction. It ends read-only handles too. Rolling back a
	// transaction the backend already ended (for example database/sql after its context was
	// cancelled) is not an error.
	Rollback() error
}

// GetAppender is an optional interface of a Txn, for hosts that copy a value out anyway: the
// ABI dispatcher, which writes it into its response frame. GetAppend appends the value of
// (ns, key) to dst and returns the extended slice, as append would (dst's contents unchanged),
// or dst and an error wrapping store.ErrNotFound. Unlike Get's arguments, ns and key may alias
// memory the caller reuses: GetAppend must not retain them, nor dst, after it returns. The
// adapter never calls it; the dispatcher does instead of Get when a Txn has it, saving Get's
// copy of the value.
type GetAppender interface {
	GetAppend(ctx context.Context, ns, key string, dst []byte) ([]byte, error)
}

// Info describes a driver to the adapter and to the hosts that serve it.
type Info struct {
	// Name is the driver's name, e.g. "sqlite".
	Name string
	// Version is the driver's own version string.
	Version string
	// Caps declares what the driver can do.
	Caps Capabilities
}

// Capabilities declares what a driver can do. The zero value is the most conservative driver:
// not durable, readers serialized against the writer, the store's size limits.
type Capabilities struct {
	// Durable: a committed transaction survives the process being killed.
	Durable bool

	// ConcurrentReaders: read transactions may be open beside an open write transaction, each
	// reading its snapshot without waiting. If false, the adapter serializes readers against
	// the writer (many readers, or one writer).
	ConcurrentReaders bool

	// MaxKeySize, MaxValueSize and MaxNamespaceSize are the largest sizes the driver accepts.
	// Zero means the store's limit; a larger value is capped at the store's limit. A driver
	// with smaller limits works but does not pass the conformance suite.
	MaxKeySize, MaxValueSize, MaxNamespaceSize int
}

// limit returns declared capped at max, or max when declared is zero.
func limit(declared, max int) int {
	if declared <= 0 || declared > max {
		return max
	}
	return declared
}
