// Package sqlite is the SQLite store.Store driver, registered as "sqlite". It is built on
// modernc.org/sqlite, a translation of SQLite to Go, so it needs no CGo and cross-compiles like
// any Go package.
//
// # DSN
//
// The DSN's form is pdk.DSNFile. The dsn given to store.Open, and the path given to Open and
// NewDriver, is a filesystem path, not a URI: every byte of it names the file (a '?' or '%' in
// it is part of the name) and no connection parameters can be passed through it; use Options
// instead. A SQLite URI ("file:...") and ":memory:" are refused (the inmem driver is the
// in-memory store). The file is created if it does not exist, but its directory must: a
// missing directory is an error wrapping fs.ErrNotExist, and is never created, so a mistyped
// path leaves nothing behind. A fresh store needs its directory, then:
//
//	if err := os.MkdirAll("data", 0o750); err != nil { ... }
//	s, err := store.OpenDSN(ctx, "sqlite:./data/app.db")
//
// # Schema
//
// All data lives in one table,
//
//	CREATE TABLE kv (ns BLOB NOT NULL, k BLOB NOT NULL, v BLOB NOT NULL,
//	                 PRIMARY KEY (ns, k)) WITHOUT ROWID
//
// created when a store is first opened. The file's PRAGMA user_version records the schema
// version (SchemaVersion); a file written by a newer driver, or a SQLite database that is not
// a Dockyard store, is refused with an error rather than modified.
//
// # Why WAL, two pools, and synchronous=FULL
//
// The database runs in write-ahead-log mode. In WAL mode a reader works from the snapshot that
// was committed when its transaction first read, and neither blocks nor is blocked by the one
// writer; this is what lets the driver declare ConcurrentReaders. To use that, the driver keeps
// two database/sql pools on the same file: a writer pool of exactly one connection, whose
// transactions begin with BEGIN IMMEDIATE (so the write lock is taken up front and a write
// transaction never fails half-way on a lock upgrade), and a reader pool of several
// connections for View, whose transactions are plain deferred BEGINs. A deferred read
// transaction takes its snapshot at its first read and holds it until it ends, so a View sees
// one consistent state for its whole callback however many Updates commit meanwhile.
//
// synchronous is FULL, not WAL's customary NORMAL. Under NORMAL the log is synced only at
// checkpoints, so a transaction that was reported committed survives a crash of the process
// but may be lost if the machine loses power or the kernel crashes. Under FULL the log is
// synced before every commit returns, so a committed transaction is durable against power loss
// too: the driver's Durable capability holds for a machine crash, not only a process crash.
// The price is one fsync per Update. SQLite also syncs the directory when it creates the log,
// so the files' directory entries are durable as well.
//
// # Why BLOB keys and no LIKE
//
// Namespaces and keys are arbitrary bytes ordered by plain byte order. They are always bound
// as []byte, so SQLite stores and compares them as BLOBs, by memcmp. A Go string would bind as
// TEXT, and a TEXT value never equals a BLOB of the same bytes and sorts before every BLOB, so
// a single string bind would silently miss or misorder rows; TEXT is also subject to
// collations and encoding conversions. A prefix scan is a range scan on the
// primary key, k >= prefix AND k < pdk.PrefixEnd(prefix), where the end is the prefix with
// its trailing 0xff bytes dropped and its last byte incremented (no upper bound when the prefix
// is all 0xff). LIKE and GLOB are never used: they match text, not bytes; they treat '%', '_',
// '*', '?' and '[' as wildcards; LIKE folds ASCII case; and neither uses the primary key.
package sqlite
