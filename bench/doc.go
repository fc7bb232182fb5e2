// Package bench measures what the store seam costs, by running the same operations through
// the Dockyard drivers and, in the same run, straight through the engines they could have been
// written against instead. It holds only tests and benchmarks; this file exists for the package
// documentation.
//
// # What is measured
//
// Four operations, each a top-level benchmark whose sub-benchmarks are the implementations:
//
//	BenchmarkGetInView      one Get of a random existing key inside one read transaction
//	BenchmarkPutInUpdate    one Put (overwriting a random key) inside one committed write
//	                        transaction
//	BenchmarkUpdate100Puts  100 Puts of random keys inside one committed write transaction
//	BenchmarkScan1000       a prefix scan returning 1000 keys, materialised as
//	                        []store.KeyValue
//
// Every database starts with the same 10,000 keys of 100-byte values in one namespace, in ten
// groups of 1000 keys that share a prefix (the Scan1000 prefix). The implementations are
//
//	inmem    store.Open("inmem"): the seam's own floor, no I/O at all
//	sqlite   store.Open("sqlite", path): the SQLite driver through the pdk adapter
//	modernc  the same SQLite engine (modernc.org/sqlite) used directly through database/sql,
//	         configured as the driver configures it: the same file URI pragmas (WAL,
//	         synchronous=FULL, busy_timeout), a one-connection writer pool whose transactions
//	         are BEGIN IMMEDIATE, a query_only reader pool, the same table and the same
//	         prepared statements, keys bound as BLOBs, and a scan read by one query (the
//	         store's Scan may take several pages: that is part of what it costs)
//	bbolt    go.etcd.io/bbolt with its default options (an fsync on every commit), one bucket
//	         per namespace
//	wasm-inmem
//	         plugins/inmem (the inmem driver compiled to WebAssembly) run by host/wasmhost in its
//	         default sandbox: memory cap and a per-call deadline
//	wasm-inmem-trusted
//	         the same module with wasmhost.WithTrusted(): no deadline
//	wasm-c   plugins/cinmem, an in-memory driver written in C on the C driver kit (pdk/c),
//	         built by clang (internal/artifactbuild.BuildC) and run by host/wasmhost in its default
//	         sandbox: the same seam and ABI from a second language (docs/pdk-c.md)
//	postgres store.Open("postgres", dsn): the PostgreSQL driver through the pdk adapter, in a
//	         fresh schema of the test server (internal/pgtest: DOCKYARD_TEST_POSTGRES, or a
//	         throwaway server started once per test binary and stopped by TestMain)
//	pgx      the same operations in plain github.com/jackc/pgx/v5 on the same server and the
//	         driver's table layout and statements: a read and a write connection, pgx's
//	         statement cache, each operation an idiomatic transaction (Begin, the statements,
//	         Commit or Rollback: three round trips; 100 Puts as one pgx.Batch; a View at
//	         REPEATABLE READ READ ONLY like the driver's). It takes no lock row and keeps no
//	         namespace catalog: those are the driver's, and part of what is measured
//	etcd     store.Open("etcd", dsn): the etcd driver through the pdk adapter, under a fresh key
//	         prefix of the shared 3-member test cluster (internal/etcdtest: DOCKYARD_TEST_ETCD,
//	         or a throwaway cluster started once per test binary and stopped by TestMain)
//	etcdclient
//	         the same operations in plain go.etcd.io/etcd/client/v3 on the same cluster and the
//	         driver's key layout: a linearizable Get, a Put, 100 Puts as one Txn, one range Get
//	         for a prefix. It takes no lock and keeps no fence and no namespace catalog: those
//	         are the driver's, and part of what is measured
//	sqlite-plugin
//	         plugins/sqlite, the sqlite driver built as a go-plugin binary, run by host/pluginhost:
//	         the same engine one process away, over gRPC with mutual TLS
//
// The wasm implementations also report crossings/op, the calls into the guest per operation
// (the ABI client's Stats.RoundTrips; TestWasmCrossings checks that a View with one Get and an
// Update of 1 or 100 Puts are one crossing each). Their allocs/op count the host's allocations
// only: the guest allocates in its own linear memory. The module is built from source by
// internal/artifactbuild and compiled once per test binary, with wazero's compilation cache in the
// user's cache directory, so `make bench` needs nothing else.
//
// Two more benchmarks measure the wasm host itself:
//
//	BenchmarkWasmCall/floor          one call of an empty exported function (a hand-assembled
//	                                 33-byte module) straight through wazero, as the sandbox
//	                                 calls: WithCloseOnContextDone and a deadline timer re-armed
//	                                 per call
//	BenchmarkWasmCall/floor-trusted  the same call as trusted mode makes it: no deadline
//	BenchmarkWasmOpen/cold           compiling plugins/inmem and opening a store on it, with an
//	                                 empty compilation cache (it takes about a second: few
//	                                 iterations run)
//	BenchmarkWasmOpen/warm           the same with the compilation cache already filled
//
// The WasmOpen benchmarks report ms/op too. For the plugin transport:
//
//	BenchmarkRoundTrip/plugin        a Ping of plugins/inmem served as a plugin by host/pluginhost:
//	                                 one PING frame there and back (TestPluginRoundTrips checks
//	                                 that a View with one Get and an Update of 1 or 100 Puts of
//	                                 sqlite-plugin are one round trip each)
//	BenchmarkRoundTrip/grpc          the same frame echoed over a bare gRPC stream (same service
//	                                 and messages, no TLS) by testdata/echo
//	BenchmarkRoundTrip/unix          the same frame echoed over a bare Unix socket
//	BenchmarkRoundTrip/mux           the same frame echoed over a raw stream brokered by
//	                                 go-plugin's netrpc MuxBroker (yamux over go-plugin's
//	                                 connection, with AutoMTLS) by testdata/muxecho
//	BenchmarkRoundTrip/mux-no-mtls   the same without AutoMTLS
//	BenchmarkPluginStart/sqlite      starting plugins/sqlite, opening a store and closing it
//
// All files live in b.TempDir(), so every durable implementation writes to the same disk, and
// every write transaction is durable when it returns: synchronous=FULL fsyncs the SQLite log
// on each commit, bbolt fsyncs its file on each commit. The PostgreSQL and etcd implementations
// are the exception: pgtest's throwaway server runs with fsync=off, and etcdtest's members keep
// their data on tmpfs when there is room, so their times are round trips
// and server work without a disk flush, comparable with each other only.
//
// # Why
//
// sqlite / modernc is the price of the seam itself: the pdk adapter's rules (validation,
// transaction bookkeeping, paged scans) and the driver's wrapping, over the best plain
// database/sql code on the same engine with the same durability. sqlite / bbolt compares the
// default embedded driver with the obvious pure-Go alternative. inmem shows the floor every
// driver shares. wasm-inmem / inmem is the price of running the same driver as a sandboxed
// WebAssembly module (the crossings, and the Go guest's code compiled by wazero), and
// wasm-inmem-trusted / inmem the same without the deadline's cost. postgres / pgx is the price
// of the seam and of the driver's design for many processes (the lock row every Update takes,
// the namespace catalog) over plain pgx on the same server; the driver pipelines its
// statements (a View with one Get, and an Update that only writes, are two round trips), so it
// can be faster than the idiomatic baseline. etcd / etcdclient is the same price for a
// replicated store: a View's first read is the baseline's Get; an Update that only writes is one
// transaction with the fence and a comparison of the lock queue, where the baseline sends a
// plain Put. Absolute numbers depend on the machine and above
// all on its disk's fsync, so only ratios between implementations measured in the same run are
// compared: internal/benchratio reads the benchmark output and prints them against their
// targets. The exceptions are WasmOpen's, which have absolute
// targets, printed apart as machine-dependent.
//
// # Running
//
//	make bench                        # all benchmarks, then the ratio table
//	go test -run '^$' -bench GetInView ./bench/
//	go test ./bench/                  # no benchmarks: checks every implementation agrees
//	go test -run '^$' -bench '/^(postgres|pgx)$' ./bench/   # only the PostgreSQL ones
//	go test -run '^$' -bench '/^(etcd|etcdclient)$' ./bench/  # only the etcd ones
//
// TestImplementationsAgree drives every implementation through the very functions the
// benchmarks time and requires identical results, so a baseline cannot be fast by being wrong.
package bench
