/*
 * dockyard.h: the Dockyard driver kit for C (pdk/c).
 *
 * A C driver implements the callbacks of struct dy_driver below and defines one global,
 *
 *     const dy_driver dockyard_driver = { .open = my_open, .begin = my_begin, ... };
 *
 * then compiles its sources together with the runtime (dockyard.c, request.c, frame.c: frame
 * checking, decoding and encoding, sessions, transaction handles, status codes) and wasm.c
 * (the WebAssembly binding: the exports dockyard_buffer and dockyard_call) to a WASI reactor:
 *
 *     clang --target=wasm32-wasi -mexec-model=reactor -O2 -flto -I pdk/c -o mydriver.wasm \
 *         mydriver.c pdk/c/dockyard.c pdk/c/request.c pdk/c/frame.c pdk/c/wasm.c
 *
 * The runtime speaks version 1.1 of the ABI described in docs/abi.md; docs/pdk-c.md is the
 * guide. The driver never sees a frame: it gets decoded, bounds-checked fields and returns a
 * status. Everything the runtime hands a callback (dy_bytes of a namespace, key, value, DSN)
 * points into the request frame and is valid only during that callback: copy what you keep.
 *
 * The runtime is single-threaded, as a wasm instance is: one callback runs at a time.
 */
#ifndef DOCKYARD_H
#define DOCKYARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this runtime speaks. */
#define DY_ABI_MAJOR 1
#define DY_ABI_MINOR 1

/*
 * Status codes (docs/abi.md, "Status codes"). A callback returns DY_OK, DY_NOT_FOUND (from get
 * only), one of the store sentinels 2..11, or DY_FAILED. The runtime reports anything else a
 * driver returns (a protocol status 33..36, a reserved code, NOT_FOUND from another callback)
 * as DY_FAILED: protocol statuses are the runtime's own.
 *
 * DY_COMMIT_UNKNOWN (ABI 1.1) is what commit returns when it cannot know whether the
 * transaction committed (the backend went away while the commit was under way); the host
 * never retries it. To a host of ABI 1.0, which has no such status, the runtime reports it as
 * DY_FAILED with the driver's message.
 */
typedef enum dy_status {
	DY_OK = 0,
	DY_NOT_FOUND = 1,
	DY_UNKNOWN_DRIVER = 2,
	DY_CLOSED = 3,
	DY_MIGRATION_OUT_OF_ORDER = 4,
	DY_READ_ONLY = 5,
	DY_DUPLICATE_DRIVER = 6,
	DY_DUPLICATE_MIGRATION = 7,
	DY_TX_DONE = 8,
	DY_INVALID_KEY = 9,
	DY_TOO_LARGE = 10,
	DY_COMMIT_UNKNOWN = 11,
	DY_FAILED = 32,
	DY_BAD_FRAME = 33,
	DY_INCOMPATIBLE = 34,
	DY_UNKNOWN_TX = 35,
	DY_NOT_OPEN = 36
} dy_status;

/* A byte string: any bytes, 0x00 included; ptr may be NULL when len is 0. */
typedef struct dy_bytes {
	const uint8_t *ptr;
	size_t len;
} dy_bytes;

/* Capability flags of dy_info.flags. */
#define DY_DURABLE 0x01            /* a committed transaction survives the process dying */
#define DY_CONCURRENT_READERS 0x02 /* read transactions may be open beside a writable one */

/*
 * What open reports about the driver (the Info of HELLO's answer; the runtime adds the ABI
 * version). A zero limit means the store's own: key 1024 B, value 4 MiB, namespace 256 B; no
 * request limit of the driver's own. The strings must stay valid until open returns.
 */
typedef struct dy_info {
	const char *name;    /* e.g. "cinmem"; NULL is "" */
	const char *version; /* the driver's own version; NULL is "" */
	uint8_t flags;       /* DY_DURABLE | DY_CONCURRENT_READERS */
	uint32_t max_key, max_value, max_ns, max_request;
} dy_info;

/* A SCAN request: the entries of ns whose key starts with prefix and is strictly greater than
 * after (empty: from the first key), in unsigned bytewise order, at most limit of them. */
typedef struct dy_scan {
	dy_bytes ns, prefix, after;
	uint32_t limit; /* 1..65536: the runtime refuses 0 and lowers larger limits */
} dy_scan;

/* The page a scan callback fills; see dy_page_add. */
typedef struct dy_page dy_page;

/*
 * dy_page_add offers the page one entry. It returns 1 if the page took it (key and value are
 * copied at once) and 0 if it refused it because the page is full: it holds limit entries, or
 * the entry would take the page past its byte budget (docs/abi.md, "Scans"; the first entry is
 * always taken). A refused entry is not in the page and makes the page say that more entries
 * may follow. So a scan callback offers the matching entries in order until it runs out (the
 * page then says it is the last) or one is refused:
 *
 *     for (e = first_match(); e && dy_page_add(page, e->key, e->value); e = next_match(e)) {}
 *     return DY_OK;
 */
int dy_page_add(dy_page *page, dy_bytes key, dy_bytes value);

/*
 * The driver. db is what open returned, tx what begin returned; the runtime keeps the
 * transaction table (host ids to tx handles) and checks everything the ABI requires before a
 * callback runs: the session is open, the transaction is open, PUT and DELETE name a writable
 * transaction. Namespaces and keys are not checked (the host's adapter does; a driver must not
 * crash on an empty or oversized one anyway).
 *
 * A failing callback returns the status and SHOULD first describe the failure with dy_fail.
 */
typedef struct dy_driver {
	/* HELLO: open the driver on dsn with the free-form options, fill *info, set *db. */
	dy_status (*open)(dy_bytes dsn, dy_bytes options, dy_info *info, void **db);
	/* BEGIN: open a transaction, read-only unless writable; set *tx. */
	dy_status (*begin)(void *db, int writable, void **tx);
	/* GET: set *value (driver memory, valid until the next callback) or return DY_NOT_FOUND.
	 * An empty value is a value. */
	dy_status (*get)(void *db, void *tx, dy_bytes ns, dy_bytes key, dy_bytes *value);
	/* PUT and DELETE (deleting an absent key is DY_OK); the transaction is writable. */
	dy_status (*put)(void *db, void *tx, dy_bytes ns, dy_bytes key, dy_bytes value);
	dy_status (*del)(void *db, void *tx, dy_bytes ns, dy_bytes key);
	/* SCAN: add the page's entries with dy_page_add. */
	dy_status (*scan)(void *db, void *tx, const dy_scan *scan, dy_page *page);
	/* COMMIT and ROLLBACK end tx whatever they return: free it in both. */
	dy_status (*commit)(void *db, void *tx);
	dy_status (*rollback)(void *db, void *tx);
	/* PING: check the backend is usable. Optional: NULL answers DY_OK. */
	dy_status (*ping)(void *db);
	/* CLOSE (and a new HELLO on an open session): the runtime has rolled back every open
	 * transaction; release db whatever is returned. */
	dy_status (*close)(void *db);
} dy_driver;

/* Defined by the driver. */
extern const dy_driver dockyard_driver;

/*
 * dy_fail records the message of the failure a callback is about to return (printf format;
 * truncated at DY_MAX_MESSAGE bytes) and returns status, so that a callback can say
 *
 *     return dy_fail(DY_TOO_LARGE, "value of %zu bytes exceeds %u", v.len, limit);
 *
 * A failure without a message gets the status's name.
 */
#define DY_MAX_MESSAGE 4096
dy_status dy_fail(dy_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* dy_status_name is the ABI name of a status ("TOO_LARGE"), or "RESERVED". */
const char *dy_status_name(int status);

/*
 * The transport side, for bindings (wasm.c) and tests; drivers do not call these.
 *
 * dy_handle executes the request frame req[0..len) and returns the response frame, which lies
 * in the runtime's response buffer: valid until the next dy_handle or dy_refuse. req must stay
 * unchanged during the call. If memory for the response runs out, the runtime writes a line to
 * stderr and aborts (a trap in wasm: the host discards the instance).
 */
typedef struct dy_frame {
	const uint8_t *ptr;
	size_t len;
} dy_frame;

dy_frame dy_handle(const uint8_t *req, size_t len);

/* dy_refuse answers a request the binding could not even hand over with a refusal: a response
 * of one failure with the formatted message. */
dy_frame dy_refuse(dy_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif

#endif /* DOCKYARD_H */
