// Package store is the Dockyard persistence seam: the one interface through which an
// application keeps its durable state.
//
// All durable state — typed records such as tasks (examples/taskstore/tasks is such a facade),
// histories of observations, the state of inspection tools — flows through the Store interface. The seam follows the interface + factory + driver
// pattern: a driver registers a factory in its init block, and store.Open constructs a Store by
// driver name. Drivers ship in three forms — in-process Go packages (drivers/inmem,
// drivers/sqlite, drivers/postgres), WebAssembly modules, and out-of-process plugins — and every
// one of them is built on the driver kit (package pdk), whose single adapter enforces the rules
// written here, so no driver re-implements them.
//
// The seam is deliberately generic. Rather than expose Tasks() / Obs() accessors directly (which
// would force this package to define out-of-scope sub-store types), Store exposes a namespaced,
// transactional key-value primitive. Sub-stores — a task store, an observation store — are thin
// typed facades constructed over a Store, each owning its own forward-only migrations, which the
// application composes into a MigrationSet and passes to Store.Migrate. Two decisions stand
// behind this: the seam stays generic (one primitive, no accessor per kind of record, so a new
// kind of state needs no change here), and migration sets are explicit values the caller owns
// (no process-wide registry, so independent stores migrate independently).
//
// # Naming a store
//
// Open takes a driver's name and a DSN, whose form is the driver's own (each driver's package
// documentation gives it). OpenDSN takes both as one string, DRIVER:DSN, split at the first
// ':' by SplitDSN: the form for a configuration file or an environment variable, and the one
// the dockyard CLI takes (--store, $DOCKYARD_STORE, copy's --from and --to):
//
//	s, err := store.OpenDSN(ctx, "sqlite:./data/app.db")
//	s, err := store.OpenDSN(ctx, "postgres:postgres://app@db/app")
//
// A string that is not DRIVER:DSN is ErrInvalidDSN; a driver not registered is
// ErrUnknownDriver, as for Open.
//
// Open creates a store that does not exist yet (a new file, table or key prefix). A program
// that only reads - a report, a backup, a CLI's get - opens with OpenReadOnly (or
// OpenDSNReadOnly) instead: it never creates or changes anything, a missing store is
// ErrNoStore (a mistyped path is an error, not a new empty store), and Update is ErrReadOnly.
// A driver learns of it from ReadOnlyOpen in its factory.
//
// Every driver must pass the shared conformance suite in package storetest; a new persistence
// concern adds a migration and is proven by that suite, never bolted onto one driver.
//
// # Keys, namespaces and limits
//
// Namespaces and keys are arbitrary non-empty byte strings carried in Go strings: any bytes, not
// only UTF-8. Scan orders keys by plain byte order (what Go's string comparison does), whatever
// the backend's collation, and a prefix is a byte prefix: '%', '_', '\\', 0x00 and 0xff are
// ordinary bytes. An empty namespace or key is ErrInvalidKey. A namespace longer than
// MaxNamespaceSize, a key (or scan prefix) longer than MaxKeySize, or a value longer than
// MaxValueSize is ErrTooLarge, and nothing is written.
//
// # Transactions
//
// Update is atomic and serializable: fn runs exactly once, and either all of its writes commit
// or none do. Reads inside Update see the transaction's own puts and deletes. View sees one
// consistent snapshot for its whole callback. A Tx is dead once its callback returns: any later
// use is ErrTxDone. If fn panics the transaction is rolled back and the panic propagates. If the
// context is cancelled before or during fn, the transaction is rolled back and the context's
// error is returned.
//
// Two consequences that surprise people:
//
//   - Update never retries. fn runs once; when a driver cannot tell whether the commit took
//     effect (a connection lost after the commit was sent), Update returns an error wrapping
//     ErrCommitUnknown, and the caller reads back to decide. Any other error means nothing was
//     committed.
//   - Do not open a View or an Update of a store inside an Update of the same store. Stores admit
//     one writer at a time, so a nested Update waits for the outer one, which waits for fn:
//     it waits until its context ends. A nested View does the same on drivers whose readers
//     wait for the writer (those that do not declare concurrent readers, buntdb among them),
//     and on the others reads the last commit, not the outer Update's writes. Use the Tx fn
//     was given.
//
// # Lost stores
//
// A driver that is not durable keeps its data where it runs: in the process for an in-process
// driver, in a sandbox instance or a plugin process for the other forms. If that instance is
// lost (it trapped, ran out of memory, its process was killed), so is the data; the store then
// fails every call with ErrStoreLost, saying what happened, rather than answering as if nothing
// had been written, until the application closes it and opens a new one (or opened it saying,
// through its host's option, that it accepts losing the data, as a cache does).
//
// # Migrations
//
// RunMigrations records each applied migration in the reserved namespace MigrationNamespace
// (key: the migration ID). Applications must not write to that namespace. Migrations only go
// forward: a program whose migration set is older than the store's (an old binary on a store a
// newer one migrated) gets ErrStoreNewer, beside ErrMigrationOutOfOrder, naming the newest
// migration applied, and changes nothing.
package store
