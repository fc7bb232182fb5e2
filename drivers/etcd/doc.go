// Package etcd is the etcd store.Store driver, registered as "etcd": the store for applications
// that must survive the loss of a machine. etcd replicates every write through Raft to a
// majority of its members before acknowledging it, so a cluster of three loses nothing
// acknowledged when one member is lost, and serves again once a majority is back after more
// are. It is built on go.etcd.io/etcd/client/v3.
//
// # DSN
//
// The DSN's form is pdk.DSNServer:
//
//	etcd://[user[:password]@]host:port[,host:port...][/prefix][?param=value&...]
//
// with the parameters lock_ttl (10s), dial_timeout (5s), request_timeout (10s),
// max_request_bytes (8388608), and tls_ca, tls_cert, tls_key (none).
//
// The endpoints are the cluster's client URLs without scheme; the client balances between them
// and moves on when one fails. They speak plain TCP unless tls_ca or tls_cert is given: then TLS,
// trusting the CA file's authorities (or the system's), presenting the client certificate of
// tls_cert and tls_key to a cluster that requires one (Options.TLSCA, TLSCert, TLSKey).
//
// The path is the store's key prefix (DefaultPrefix, "dockyard", when empty; percent-escapes allowed): several
// stores share one cluster under different prefixes, which must not nest ("a" and "a/b"), and a
// prefix that holds keys that are not a Dockyard store is refused. The parameters set Options
// of the same names and override them. Errors show the DSN with its password masked. ParseDSN
// and DSN.String parse and format DSNs, for tools that make stores of their own under a user's.
//
// As one DRIVER:DSN string, the URL keeps its scheme after the driver's name:
//
//	s, err := store.OpenDSN(ctx, "etcd:etcd://h1:2379,h2:2379,h3:2379/app")
//
// A fresh store needs a cluster run with the settings below; the driver creates its keys
// under the prefix when it first opens the store.
//
// # The cluster's settings
//
// An Update commits in one etcd transaction, so the cluster must accept requests and
// transactions as large as an Update: run every member with
//
//	--max-request-bytes=8388608   (etcd's default, 1.5 MiB, is below one store.MaxValueSize value)
//	--max-txn-ops=16384           (etcd's default, 128, bounds an Update to about 127 writes)
//
// An Update larger than either is refused before or at commit with an error naming the flag,
// and nothing of it is committed. Compaction must keep at least as many revisions as a View
// lives: a View reads at a fixed revision, and fails with etcd's "required revision has been
// compacted" if it outlives it.
//
// # Layout
//
// Under the prefix P, P/meta/schema records the schema version (SchemaVersion), P/meta/commit is
// the commit fence, P/lock/ holds the writers' lock queue, and P/d<n><ns><key> holds the data,
// n being the namespace's length as two big-endian bytes: each namespace is one byte range,
// whatever bytes it holds, and keys sort in byte order, etcd's order, so a prefix scan is one
// range read (from prefix to pdk.PrefixEnd(prefix)), paged by the key after which it goes on.
// The driver creates the schema key itself, and upgrades it through forward-only steps, each one
// transaction that compares the recorded version, so concurrent openers apply each step once.
// A store whose version is newer than the driver's is refused.
//
// # Isolation across processes
//
// The contract must hold across every process on every machine that opens the store: a View
// reads one snapshot and never waits for a writer; an Update is serializable (no lost update,
// no write skew) and runs fn exactly once, so it can never be retried on a conflict. etcd gives
// the pieces: reads at a fixed revision, transactions whose comparisons and writes apply
// atomically, and leases that expire with a client.
//
//   - A View's first read is linearizable (it sees every write acknowledged before it began) and
//     its revision R is kept: every later read is at R. A revision is a snapshot of the whole
//     key space, so the View reads one state; reads never take a lock, so Views never wait.
//   - Writers take one lock per store, a queue of keys under P/lock/, each written with the
//     writer's lease: a writer puts its key and reads the head of the queue in one transaction
//     (one round trip when nobody else writes); otherwise it watches the key just ahead of its
//     own until that is deleted (each waiter wakes one other). When it holds the lock at
//     revision L, every earlier writer has committed or given up, and it reads at L.
//   - Its commit is one transaction that applies only if, at commit time, its own lock key still
//     exists with its creation revision, the fence P/meta/commit is unchanged since L and the
//     schema is this driver's, and that writes its changes, rewrites the fence and deletes its
//     lock key. So no write lands between L and the commit: between them the writer's key is
//     the queue's head, every other writer waits, and a commit without the lock (below) needs an
//     empty queue. Each Update thus reads the latest state and commits atomically on it:
//     Updates are serializable in the order they hold the lock, without retries.
//   - A writer that dies or is cut off loses its lease after lock_ttl (its process kept it
//     alive until then), etcd deletes its key, and the next writer goes on; if the cut-off
//     writer's commit arrives later, its key is gone and the comparison refuses it. That is why
//     the comparisons, not the lock alone, make commits safe: a lock can be lost without its
//     holder knowing, a comparison cannot be.
//   - An Update that only writes (it never read) depends on no state, so it may commit at any
//     point: it commits in one transaction that compares the lock queue empty instead of
//     holding the lock; if a writer holds or waits for the lock, it queues like the others.
//
// The price is that writers of one store wait for each other, across every process: an Update
// whose callback is slow holds the lock, and others queue behind it until their contexts end.
// Keep Update callbacks short and give them deadlines. Stores under different prefixes never
// wait for each other.
//
// A commit is never resent. When its request fails in a way that leaves the outcome unknown (the
// connection to the member broke, the leader changed or lost its majority while the request was
// in flight, the context ended), Update returns an error wrapping store.ErrCommitUnknown, and the
// caller reads back to find out. When the cluster refused the request, or it never left the
// client, the error says nothing was committed.
//
// # Requests and faults
//
// Every request asks for a member that has a leader (clientv3.WithRequireLeader): a member cut
// off from the majority refuses at once instead of holding requests until the caller's deadline,
// and the client tries another endpoint. gRPC keepalive pings (every 5 s) notice a member that
// vanished without closing its connections. Nothing is retried behind the caller's back, but for
// reads, which the client itself retries on another member, and the lease grant after a lease
// expired. Every request has a deadline of request_timeout (10 s) at most, whatever the
// caller's context: a request held by a cluster without a majority fails then (a commit as
// unknown) rather than never; a writer waiting for the lock looks at the queue again every
// lock_ttl, in case its watch stalled. Granting the lease is bounded by lock_ttl: a grant sent just after a leader was
// killed can otherwise wait far longer (seen with etcd 3.4).
package etcd
