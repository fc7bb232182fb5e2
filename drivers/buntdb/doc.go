// Package buntdb is a durable store.Store driver on github.com/tidwall/buntdb, registered as
// "buntdb".
//
// # DSN
//
// The DSN's form is pdk.DSNDir. The dsn given to store.Open, and the path given to Open and
// NewDriver, is the store's data directory, which must exist (it is never created; a missing
// one is an error wrapping fs.ErrNotExist); the database is the file FileName inside it. A
// fresh store needs an empty directory:
//
//	if err := os.MkdirAll("data/app.bunt", 0o750); err != nil { ... }
//	s, err := store.OpenDSN(ctx, "buntdb:./data/app.bunt")
//
// As a WebAssembly module (plugins/buntdb), the host creates the directory and mounts it at
// /data; its manifest's dsn_form is "dir".
//
// Importing the package registers the driver for in-process use. The WebAssembly form
// registers under the name in its manifest; a program that imports this package and also loads
// a manifest naming its driver "buntdb" has two drivers of one name, so such a manifest should
// use another name (say "buntdb-wasm").
//
// # Why buntdb
//
// buntdb is a small, pure-Go, ordered key-value store: an in-memory B-tree of string keys in
// plain byte order, made durable by an append-only file. It needs no CGo, no mmap and no file
// locking, and builds for GOOS=wasip1 unmodified, so the same driver runs in-process and as a
// WebAssembly module (plugins/buntdb) inside the wasm host's sandbox. The price is that the
// whole store lives in memory (in a wasm guest, inside the host's memory cap) and that opening
// a store reads its whole file, twice: once to check it (below), once as buntdb loads it.
//
// # Keys
//
// buntdb keys and values are Go strings holding any bytes. A (namespace, key) pair is stored
// under one buntdb key: the namespace with each 0x00 byte escaped as 0x00 0xFF, the terminator
// 0x00 0x01, then the key's raw bytes. Byte order of the encoded keys is then exactly the order
// of (namespace, key) pairs, and the keys of a namespace that start with a prefix form one
// contiguous range, so a scan page is one ascending walk from a lower bound to the first key
// outside the prefix (see keys.go). The driver's own bookkeeping keys start with 0x00 0x02,
// which no encoded key does. Values are stored as strings of their bytes: the file format
// carries explicit lengths, so any bytes, including 0x00, CR and LF, round-trip.
//
// # No concurrent readers
//
// buntdb has one writer or many readers: a write transaction holds a sync.RWMutex exclusively
// and changes the live tree in place, undoing its changes on rollback. A read beside an open
// write would block (and, in a wasm reactor, where the write's handle waits for the host's next
// call, block forever). So the driver declares Capabilities{ConcurrentReaders: false}: the pdk
// adapter then never begins a read while a write is open, nor a write while reads are; a
// View waits for an Update in flight. Inside a write transaction, Get and Scan see the
// transaction's own writes, since they read the live tree. All read handles open at one time
// share one buntdb read transaction, so the driver never holds buntdb's read lock twice (see
// driver). If the adapter's promise is broken anyway, Begin returns an error instead of
// blocking.
//
// # Durability and atomicity
//
// A committed Update is durable when Commit returns: the driver fsyncs the database file after
// every commit that wrote anything. It does so itself, through a second handle on the file,
// and runs buntdb with SyncPolicy Never: buntdb's SyncPolicy Always ignores the error of its
// fsync. After a failed fsync the store refuses all further work until reopened.
//
// buntdb writes a transaction's records with one write, but its file has no transaction
// framing, and a write cut short (SIGKILL can interrupt a multi-page write(2); power can fail
// before the pages reach the disk) would come back in part on the next open. The driver adds
// the framing inside buntdb's own format: every file starts with a format header, and every
// transaction writes a commit record holding its record count and a checksum (CRC-32C) of its
// records. Before buntdb reads the file, the driver checks it and truncates the remains of a
// torn last transaction; damage anywhere else is an error naming the file and offset, and the
// file is left unchanged (see file.go). The checks also keep buntdb's loader, which would
// allocate whatever length a damaged record claims, from ever reading a damaged file. A file
// that is not a Dockyard buntdb database, or has another FormatVersion, is refused.
//
// On platforms with flock, the driver holds an exclusive lock on LockName in the directory while
// the store is open, so a second store on the same directory, in this process or another, fails
// to open instead of interleaving its writes.
//
// # Compaction
//
// An append-only file grows with every write. buntdb's own background shrink is disabled: it
// renames its new file into place without fsyncing it or the directory, so a power loss could
// leave a damaged store, and it panics in a background goroutine if the rename fails. Instead,
// when the file has grown past WithCompactMinSize (DefaultCompactMinSize) and twice its size
// after the last compaction, the next write transaction first compacts it: the live data is
// written to a new file, which is fsynced and renamed over the old one, the directory is
// fsynced, and the new file is opened. A crash at any point leaves either the old or the new
// file, each complete. Compaction costs time proportional to the live data, once per doubling.
//
// # WebAssembly
//
// Under GOOS=wasip1 there is no flock, and goroutines run only while the host is inside a call
// into the module. buntdb starts a background goroutine per open database that once a second
// takes its write lock to expire keys (the driver sets no expirations) and, with the driver's
// configuration, does nothing else: it never writes the file. It can only run while the driver
// is blocked or yields, never holds the lock across calls, and exits at its next tick after
// Close (buntdb offers no way to stop it sooner). The sandbox's data directory is the DSN
// ("/data"); see plugins/buntdb. A large compaction or open runs inside one call, so the host's
// per-call deadline bounds the store size it can serve.
package buntdb
