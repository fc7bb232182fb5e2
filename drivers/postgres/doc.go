// Package postgres is the PostgreSQL store.Store driver, registered as "postgres": the store for
// applications that outgrow one machine, whose instances share one store through one server.
// It is built on github.com/jackc/pgx/v5.
//
// # DSN and table
//
// The DSN's form is pdk.DSNServer. The dsn given to store.Open, and to Open and NewDriver, is a
// PostgreSQL connection string in either form pgx accepts: a URL (postgres://user:pass@host:5432/db?sslmode=disable) or
// key=value pairs (host=... dbname=...), with libpq's PG* environment variables as defaults.
// Settings that are not connection parameters are sent to the server as session settings,
// search_path=myschema for instance; pgxpool's pool_* parameters are refused (see Connections).
//
// A store is one table (with a small companion, <table>_meta), so several stores can share one
// database. The table is DefaultTable ("dockyard_kv") unless the DSN's dockyard_table
// parameter (TableParam) or the WithTable option names another:
//
//	postgres://app@db/app?dockyard_table=orders
//	host=db dbname=app user=app dockyard_table=orders
//
// As one DRIVER:DSN string, the URL keeps its scheme after the driver's name:
//
//	s, err := store.OpenDSN(ctx, "postgres:postgres://app@db/app?dockyard_table=orders")
//	s, err := store.OpenDSN(ctx, "postgres:host=db dbname=app user=app")
//
// A fresh store needs the database and a role that may create tables in it: the driver creates
// its tables when it first opens the store.
//
// The driver removes dockyard_table from the DSN before connecting. A table name is lower-case
// ASCII letters, digits and '_' (at most 58 bytes, not starting with a digit), so it is the
// same name whether a person types it quoted or not.
//
// # Schema
//
//	CREATE TABLE <table>      (ns bytea NOT NULL, k bytea NOT NULL, v bytea NOT NULL,
//	                           PRIMARY KEY (ns, k))
//	CREATE TABLE <table>_meta (id int PRIMARY KEY CHECK (id = 1), version int NOT NULL)
//
// The meta table's single row records the schema version (SchemaVersion) and is the writers'
// lock (below). The driver creates and upgrades its tables itself, through forward-only steps,
// each applied once in a transaction that holds the meta row's lock and records the new
// version; processes that open a new store at the same moment wait for that lock and find the
// work done. (The meta table itself is created first, with CREATE TABLE IF NOT EXISTS, which
// PostgreSQL does not make safe against itself: a process that loses that race gets an error
// and tries again.) A store whose version is newer than the driver's is refused, as is an existing
// table of the same name that is not a Dockyard store. Opening an up-to-date store reads one
// row.
//
// # Why bytea, and byte ranges instead of LIKE
//
// Namespaces and keys are arbitrary bytes ordered by plain byte order. bytea compares by
// memcmp, whatever the database's collation (text would compare by the collation, and could
// not hold a 0x00 byte at all), so ORDER BY k is byte order. A prefix scan is a range on the
// primary key, k >= prefix AND k < pdk.PrefixEnd(prefix), the end being the prefix with its
// trailing 0xff bytes dropped and its last byte incremented (no upper bound when the prefix is
// all 0xff). LIKE is never used: it matches text, treats '%' and '_' as wildcards and '\' as
// an escape, and needs a C-collated index to use one at all. Scans are paged with a cursor,
// k > after, so a page is one index range scan.
//
// # Isolation across processes
//
// The contract has to hold when many processes on many machines open the same store: Update
// is serializable (no lost update, no write skew), fn runs exactly once, and View sees one
// snapshot and never waits for a writer. The driver gets there with one writer at a time per
// store and snapshots for readers:
//
//   - An Update's transaction runs at READ COMMITTED and, before its first statement, locks
//     the meta row with SELECT ... FOR UPDATE. Writers of one store, in any process, therefore
//     run one after another. Within a process the adapter already admits one Update at a
//     time; the row lock extends that to every process and machine.
//   - READ COMMITTED, not REPEATABLE READ, is what makes the lock sufficient. At REPEATABLE
//     READ the transaction's snapshot is taken by its first statement, which is the lock
//     statement itself: taken when it starts, before it waits for the previous writer, so the
//     transaction would not see that writer's commit and would overwrite it (a lost update).
//     At READ COMMITTED every statement takes a new snapshot, so every read after the lock is
//     granted sees every commit made before it: the previous holder committed before its lock
//     was released, and no one else writes the store. So each Update reads the latest state
//     and nobody changes it before it commits: it is serializable, in the order the lock
//     grants. Without retries, too: SERIALIZABLE would also be correct but fails transactions
//     with serialization errors, whose only remedy is to run fn again, which the seam forbids.
//   - A row lock is used rather than an advisory lock because some PostgreSQL-compatible
//     distributed databases lack advisory locks (or make them no-ops) but do have SELECT ...
//     FOR UPDATE. (The driver is tested against PostgreSQL only.) The lock is held by the
//     transaction, so it is released when the transaction ends in any way, including its
//     client dying: the server sees the connection close, rolls back and releases it. The
//     lock row also carries the schema version, which each Update checks.
//   - A View's transaction is REPEATABLE READ READ ONLY: one snapshot, taken at its first
//     read, for its whole callback. PostgreSQL's snapshots never wait for row locks or
//     writers, so readers never wait, in this process or any other. Because writers commit
//     one after another, every snapshot holds a prefix of the sequence of Updates.
//
// The price is that writers of one store wait for each other: an Update whose callback is slow
// (or stuck) holds the lock, and every other process's Updates of that store queue behind it,
// each until its context ends. Keep Update callbacks short; give Updates a context deadline;
// the server's idle_in_transaction_session_timeout bounds a client that stalls mid-Update.
// Stores in different tables never wait for each other.
//
// fn runs exactly once and the driver never retries anything it has sent. A COMMIT is never
// repeated: if the connection fails after the COMMIT may have reached the server, Update
// returns an error wrapping store.ErrCommitUnknown, and the caller reads back to find out. If
// the server reported an error, or nothing reached it, the error says the transaction did not
// commit.
//
// # Round trips
//
// The server is across a network, so the driver counts round trips. Begin sends nothing. The
// BEGIN (and a writer's lock) goes in one pipeline with the transaction's first read; Put and
// Delete are buffered (copied) and sent in the pipeline of the next read or of the COMMIT
// (early once 1000 writes or 4 MiB are buffered, to bound memory). A View with one Get is two
// round trips (BEGIN+SELECT, ROLLBACK); an Update that only writes is one (BEGIN, the lock,
// the writes, COMMIT: the lock statement checks the schema version on the server, so that a
// failed check stops the COMMIT behind it); a read-modify-write Update is two. A consequence: an error in a Put or Delete (which
// after the adapter's validation means a lost connection) is reported by the next read or by
// Update, and the transaction is not committed either way.
//
// # Connections
//
// Each store keeps two pgxpool pools (github.com/jackc/pgx/v5/pgxpool): one of up to
// WithReadConns connections for Views, and one of a single connection for Updates, so a process
// runs one writer per store (the meta row's lock does the same across processes). Connections
// are dialled on demand. pgxpool discards a connection given back broken, or still inside a
// transaction (closing it rolls that back), and the next transaction dials a new one; and it
// pings a connection that has been idle for more than a second before handing it out (its
// ShouldPing hook, which the driver sets explicitly), discarding it if the ping fails. So a
// connection that sat idle across a server restart is not used for a transaction, the
// operations in flight during a restart fail with the connection's error, and later ones
// work again once the server is back; nothing is retried behind the caller's back. A ping per
// acquire (PrepareConn or BeforeAcquire) would cost every transaction a round trip, and the
// background health check (HealthCheckPeriod) does not ping, so neither is used for this;
// the health check only closes connections idle for more than 30 minutes or older than an
// hour (pgxpool's defaults). pgxpool's pool_* DSN parameters are refused: the driver sets
// its pools up itself. Ping uses an idle reader connection, or dials one of its own when
// every reader connection is in use. Statements are prepared once per connection by pgx's
// statement cache.
//
// pgxpool rather than a pool of the driver's own: it is pgx's, maintained with it, and it
// already does what the driver needs (bounded size, waiting with a context, discarding broken
// connections, liveness checks after idling), so the driver only configures it.
package postgres
