package store

import (
	"context"
	"errors"
)

// Sentinel errors returned across the Store seam. Callers match with errors.Is; drivers wrap
// these with %w to add context.
var (
	// ErrNotFound is returned by Tx.Get when the (namespace, key) pair has no
	// value.
	ErrNotFound = errors.New("store: key not found")

	// ErrUnknownDriver is returned by Open when no driver is registered under
	// the requested name.
	ErrUnknownDriver = errors.New("store: unknown driver")

	// ErrClosed is returned by any operation on a Store after Close.
	ErrClosed = errors.New("store: store is closed")

	// ErrMigrationOutOfOrder is returned by Migrate when the registered
	// migration sequence does not extend the already-applied sequence as a
	// prefix — an applied migration was reordered or removed. Migrations are
	// append-only and forward-only.
	//
	// Note: editing a migration's Up body in place (same ID, same ordinal) is
	// also forbidden but is NOT detected here — a Go func cannot be
	// content-hashed, so that rule is kept by code review, not by the runner
	// (see Migration).
	ErrMigrationOutOfOrder = errors.New("store: migration registered out of order")

	// ErrStoreNewer is returned by Migrate, beside ErrMigrationOutOfOrder, when the store's
	// applied migrations are the whole registered set followed by more: an older version of
	// the program runs on a store a newer one migrated. Nothing is applied.
	ErrStoreNewer = errors.New("store: the store was migrated by a newer program")

	// ErrReadOnly is returned by Tx.Put and Tx.Delete when they are called on
	// a read-only transaction (one produced by View). A write inside a View
	// callback is a programming error; the transaction is not mutated.
	ErrReadOnly = errors.New("store: write attempted on a read-only transaction")

	// ErrDuplicateDriver is the panic value when Register is called with a
	// driver name that is already registered.
	ErrDuplicateDriver = errors.New("store: driver registered twice")

	// ErrDuplicateMigration is returned by MigrationSet.Add (and MigrationSet.
	// Extend) when a migration ID is already present in the set. MustAdd panics
	// with it.
	ErrDuplicateMigration = errors.New("store: migration registered twice")

	// ErrTxDone is returned by every Tx method called after the View or Update
	// callback that produced the Tx has returned. A Tx must not be retained.
	ErrTxDone = errors.New("store: transaction already finished")

	// ErrInvalidKey is returned when a namespace or key is empty.
	ErrInvalidKey = errors.New("store: invalid key")

	// ErrTooLarge is returned when a namespace, key, prefix or value exceeds
	// MaxNamespaceSize, MaxKeySize or MaxValueSize. Nothing is written.
	ErrTooLarge = errors.New("store: too large")

	// ErrCommitUnknown is returned by Update when the driver was lost (its process died, its
	// connection or sandbox instance went away) while the commit was under way, so whether the
	// transaction committed cannot be known. The store never retries such an Update: the caller
	// must read back to find out, since running fn again could apply it twice.
	ErrCommitUnknown = errors.New("store: commit outcome unknown")

	// ErrStoreLost is returned by every call on a store whose driver is not durable after the
	// driver's instance was lost (its sandbox instance trapped or ran out of memory, its plugin
	// process died): the committed data lived in that instance and is gone. The error says what
	// happened. The store stays lost, rather than going on empty as if the data had never been
	// written, until the application closes it and opens a new one, or opened it accepting the
	// loss (a cache: the host's option for it says so). Close still works.
	ErrStoreLost = errors.New("store: store lost with its driver instance")
)

// Size limits every driver accepts. They are fixed, not per driver, so that data can be copied
// between any two drivers. MaxKeySize+MaxNamespaceSize stays well below PostgreSQL's B-tree
// index entry limit (about 2.7 KB), which is the tightest backend the seam targets.
const (
	// MaxNamespaceSize is the largest namespace, in bytes.
	MaxNamespaceSize = 256
	// MaxKeySize is the largest key, and the largest Scan prefix, in bytes.
	MaxKeySize = 1024
	// MaxValueSize is the largest value, in bytes (4 MiB).
	MaxValueSize = 4 << 20
)

// MigrationNamespace is the reserved namespace in which RunMigrations records applied
// migrations: one key per migration ID. Applications must not write to it.
const MigrationNamespace = "\x00dockyard/migrations"

// KeyValue is one entry returned by Tx.Scan.
type KeyValue struct {
	Key   string
	Value []byte
}

// Factory constructs a Store for a given data-source name. The dsn is driver-specific: a
// filesystem path for the sqlite driver, ignored by the in-memory driver.
type Factory func(ctx context.Context, dsn string) (Store, error)

// Store is the Dockyard persistence seam. A Store is a reusable artifact: a single value must be
// safe for concurrent use by multiple goroutines.
type Store interface {
	// Migrate applies every migration of set that has not yet been applied, in
	// the set's order. Migrations are forward-only and idempotent: a clean run
	// and any later re-run are both safe and leave identical schema state. A
	// nil set is a valid no-op. Migrate returns ErrMigrationOutOfOrder if the
	// set diverges from what was previously applied — an applied migration was
	// reordered or removed. (An in-place edit to a migration's Up body is also
	// forbidden but cannot be detected at runtime: see Migration.) When the set is a
	// prefix of what was applied (an older program on a store a newer one
	// migrated), the error also wraps ErrStoreNewer.
	//
	// set is supplied explicitly — not read from a process global — so two
	// stores can migrate concurrently from independent sets with no shared
	// state and no external locking.
	Migrate(ctx context.Context, set *MigrationSet) error

	// View runs fn inside a read-only transaction. A non-nil error from fn is
	// returned to the caller; no writes are possible.
	View(ctx context.Context, fn func(Tx) error) error

	// Update runs fn inside a read-write transaction. If fn returns a non-nil
	// error the transaction is rolled back and the error is returned;
	// otherwise it is committed.
	Update(ctx context.Context, fn func(Tx) error) error

	// Ping verifies the store is reachable and usable.
	Ping(ctx context.Context) error

	// Close releases all resources held by the Store. Operations after Close
	// return ErrClosed. Close is idempotent.
	Close() error
}

// Tx is a namespaced key-value transaction handle. It is the primitive every sub-store (a typed
// facade such as a task store or an observation store) builds on. A Tx is not safe for concurrent use and must not be
// retained beyond the View/Update callback that produced it.
type Tx interface {
	// Get returns the value stored under (ns, key), or ErrNotFound if absent.
	// The returned slice is owned by the caller.
	Get(ns, key string) ([]byte, error)

	// Put stores value under (ns, key), overwriting any existing value. The
	// value slice is copied; the caller may reuse it after Put returns.
	Put(ns, key string, value []byte) error

	// Delete removes (ns, key). It is a no-op if the key is absent.
	Delete(ns, key string) error

	// Scan returns every key/value in ns whose key has the given prefix,
	// ordered lexicographically by key. An empty prefix scans the whole
	// namespace.
	Scan(ns, prefix string) ([]KeyValue, error)
}
