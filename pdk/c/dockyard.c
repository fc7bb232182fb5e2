/*
 * dockyard.c: the ABI runtime of the C driver kit. It handles one request frame at a time
 * (docs/abi.md, "Executing a request") in two passes:
 *
 *  1. check the whole frame, executing nothing: header, magic, major, count against the bytes
 *     present, every operation decoded (request.c), nothing left over. A frame failing a check
 *     is refused: the response holds that one failure;
 *  2. execute the operations in order, one result each, stopping after the first failure.
 *
 * A response frame is the 12-byte header (magic "DYR\0", this runtime's version, the count of
 * results) and the results back to back. A result is a status byte followed, for OK, by the
 * operation's payload (none for most), for NOT_FOUND by nothing, and for any failure by a
 * message (`str`).
 *
 * The runtime also keeps the session (open after a successful HELLO until CLOSE) and the table
 * of open transactions, host ids to the driver's handles, sorted by id.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockyard.h"
#include "frame.h"
#include "request.h"

/* SCAN bounds (docs/abi.md, "Scans"): the driver gets at most this limit, and a page's payload
 * (4 bytes of n, 8 bytes plus key and value per entry, 1 byte of more) stays within the budget
 * unless its single entry alone exceeds it. */
#define SCAN_MAX_LIMIT 65536u
#define SCAN_PAGE_BUDGET ((size_t)1 << 20)

/* A response buffer larger than this is released after a run of small responses. */
#define RESPONSE_KEEP ((size_t)1 << 20)
#define SMALL_RUN 16

#define D dockyard_driver

/* ---- messages ---------------------------------------------------------------------------- */

/* The message of the failure being reported, set by dy_fail (the driver's or the runtime's). */
static char msg[DY_MAX_MESSAGE + 1];
static size_t msg_len;
static int msg_set;

static void vset_message(const char *fmt, va_list ap) {
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	if (n < 0) {
		strcpy(msg, "(the failure message could not be formatted)");
		n = (int)strlen(msg);
	}
	msg_len = (size_t)n < DY_MAX_MESSAGE ? (size_t)n : DY_MAX_MESSAGE;
	msg_set = 1;
}

dy_status dy_fail(dy_status status, const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	vset_message(fmt, ap);
	va_end(ap);
	return status;
}

const char *dy_status_name(int status) {
	static const char *const low[] = {
	    "OK",        "NOT_FOUND",           "UNKNOWN_DRIVER", "CLOSED",   "MIGRATION_OUT_OF_ORDER", "READ_ONLY",
	    "DUPLICATE_DRIVER", "DUPLICATE_MIGRATION", "TX_DONE", "INVALID_KEY", "TOO_LARGE", "COMMIT_UNKNOWN",
	};
	static const char *const high[] = {"FAILED", "BAD_FRAME", "INCOMPATIBLE", "UNKNOWN_TX", "NOT_OPEN"};
	if (status >= 0 && status <= DY_COMMIT_UNKNOWN)
		return low[status];
	if (status >= DY_FAILED && status <= DY_NOT_OPEN)
		return high[status - DY_FAILED];
	return "RESERVED";
}

static int is_failure(dy_status st) { return st != DY_OK && st != DY_NOT_FOUND; }

/* The ABI minor of the request being handled (its header's): a result uses only the statuses
 * that minor has. */
static uint16_t host_minor;

/*
 * from_driver turns what a callback of op returned into the status to report. A driver may
 * return OK, NOT_FOUND (GET only), a store sentinel 2..11 or FAILED; anything else becomes
 * FAILED, keeping the driver's message if it gave one. COMMIT_UNKNOWN, of ABI 1.1, becomes
 * FAILED for a 1.0 host (with the driver's message, or one saying what happened).
 */
static dy_status from_driver(uint8_t op, int st) {
	if (st == DY_COMMIT_UNKNOWN && host_minor < 1) {
		if (!msg_set)
			dy_fail(DY_FAILED, "%s: whether the transaction committed is unknown", dy_op_name(op));
		return DY_FAILED;
	}
	if (st == DY_OK || (st >= DY_UNKNOWN_DRIVER && st <= DY_COMMIT_UNKNOWN) || st == DY_FAILED)
		return (dy_status)st;
	if (st == DY_NOT_FOUND && op == DY_OP_GET)
		return DY_NOT_FOUND;
	if (!msg_set)
		dy_fail(DY_FAILED, "%s: the driver returned status %d (%s), which it may not", dy_op_name(op), st,
		        dy_status_name(st));
	return DY_FAILED;
}

/* ---- the response ------------------------------------------------------------------------ */

static dy_writer resp;       /* the response buffer, reused from call to call */
static unsigned small_run;   /* consecutive responses using under a quarter of it */

static void response_begin(void) {
	if (resp.cap > RESPONSE_KEEP && small_run >= SMALL_RUN) {
		free(resp.buf);
		resp = (dy_writer){0};
		small_run = 0;
	}
	resp.len = 0;
	wr_header(&resp, dy_response_magic, DY_ABI_MAJOR, DY_ABI_MINOR, 0);
}

static dy_frame response_end(uint32_t count) {
	wr_put_u32(&resp, DY_COUNT_OFFSET, count);
	small_run = resp.len < resp.cap / 4 ? small_run + 1 : 0;
	return (dy_frame){resp.buf, resp.len};
}

/* failure_result appends a failure: the status, then the message (the status's name if none
 * was set). */
static void failure_result(uint8_t op, dy_status st) {
	wr_u8(&resp, (uint8_t)st);
	if (msg_set) {
		wr_bytes(&resp, msg, msg_len);
		return;
	}
	char m[64];
	int n = snprintf(m, sizeof m, "%s: %s", dy_op_name(op), dy_status_name(st));
	wr_bytes(&resp, m, n > 0 && (size_t)n < sizeof m ? (size_t)n : 0);
}

/* ---- session and transactions ------------------------------------------------------------ */

typedef struct txent {
	uint32_t id;
	uint8_t writable;
	void *handle;
} txent;

static struct {
	int open;
	void *db;
} session;

/* The open transactions, sorted by id (hosts mostly pick rising ids: inserts append). */
static struct {
	txent *v;
	size_t n, cap;
} txs;

/* tx_lower is the index of the first transaction whose id is >= id. */
static size_t tx_lower(uint32_t id) {
	size_t lo = 0, hi = txs.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (txs.v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static txent *tx_find(uint32_t id) {
	size_t i = tx_lower(id);
	return i < txs.n && txs.v[i].id == id ? &txs.v[i] : NULL;
}

/* tx_reserve makes room for one more transaction; 0 when memory ran out. */
static int tx_reserve(void) {
	if (txs.n < txs.cap)
		return 1;
	size_t cap = txs.cap ? txs.cap * 2 : 8;
	if (cap > SIZE_MAX / sizeof(txent))
		return 0;
	txent *v = realloc(txs.v, cap * sizeof(txent));
	if (v == NULL)
		return 0;
	txs.v = v;
	txs.cap = cap;
	return 1;
}

static void tx_insert(txent e) {
	size_t i = tx_lower(e.id);
	memmove(&txs.v[i + 1], &txs.v[i], (txs.n - i) * sizeof(txent));
	txs.v[i] = e;
	txs.n++;
}

static void tx_remove(txent *e) {
	size_t i = (size_t)(e - txs.v);
	memmove(&txs.v[i], &txs.v[i + 1], (txs.n - i - 1) * sizeof(txent));
	txs.n--;
}

/*
 * session_close ends the session as CLOSE does: it rolls back every open transaction in
 * ascending id order, closes the driver, and forgets both whatever fails. It returns OK or the
 * first failure, whose message it leaves set.
 */
static dy_status session_close(void) {
	static char first_msg[DY_MAX_MESSAGE + 1];
	size_t first_len = 0;
	int first_set = 0;
	dy_status first = DY_OK;
	for (size_t i = 0; i <= txs.n; i++) {
		uint8_t op = i < txs.n ? DY_OP_ROLLBACK : DY_OP_CLOSE;
		msg_set = 0;
		dy_status st;
		if (op == DY_OP_ROLLBACK)
			st = D.rollback ? from_driver(op, D.rollback(session.db, txs.v[i].handle)) : DY_OK;
		else
			st = D.close ? from_driver(op, D.close(session.db)) : DY_OK;
		if (is_failure(st) && first == DY_OK) {
			first = st;
			first_set = msg_set;
			first_len = msg_len;
			memcpy(first_msg, msg, msg_len);
		}
	}
	txs.n = 0;
	session.open = 0;
	session.db = NULL;
	msg_set = first_set;
	msg_len = first_len;
	memcpy(msg, first_msg, first_len);
	return first;
}

/* need_session fails op with NOT_OPEN when no session is open. */
static dy_status need_session(const dy_op *op) {
	if (session.open)
		return DY_OK;
	return dy_fail(DY_NOT_OPEN, "%s: no session is open (HELLO first)", dy_op_name(op->code));
}

/* need_tx finds op's transaction, or fails with NOT_OPEN or UNKNOWN_TX. */
static dy_status need_tx(const dy_op *op, txent **t) {
	dy_status st = need_session(op);
	if (st != DY_OK)
		return st;
	*t = tx_find(op->tx);
	if (*t == NULL)
		return dy_fail(DY_UNKNOWN_TX, "%s: transaction %u is not open", dy_op_name(op->code), (unsigned)op->tx);
	return DY_OK;
}

/* missing fails op when the driver left the callback it needs NULL. */
static dy_status missing(const dy_op *op) {
	return dy_fail(DY_FAILED, "%s: the driver does not implement it", dy_op_name(op->code));
}

/* ---- executing operations ---------------------------------------------------------------- */

/* Each exec_ function appends an OK or NOT_FOUND result itself, or returns a failure with its
 * message set, possibly after appending part of a payload (which the caller cuts off). */

static dy_status exec_hello(const dy_op *op) {
	if (op->major != DY_ABI_MAJOR)
		return dy_fail(DY_INCOMPATIBLE, "host speaks ABI %u.%u, guest speaks ABI %u.%u", (unsigned)op->major,
		               (unsigned)op->minor, DY_ABI_MAJOR, DY_ABI_MINOR);
	if (session.open)
		session_close(); /* a new HELLO ends the session as CLOSE would; its outcome is moot */
	if (D.open == NULL)
		return missing(op);
	dy_info info = {0};
	void *db = NULL;
	msg_set = 0;
	dy_status st = from_driver(op->code, D.open(op->dsn, op->options, &info, &db));
	if (st != DY_OK)
		return st;
	session.open = 1;
	session.db = db;
	const char *name = info.name ? info.name : "", *version = info.version ? info.version : "";
	wr_u8(&resp, DY_OK);
	wr_u16(&resp, DY_ABI_MAJOR);
	wr_u16(&resp, DY_ABI_MINOR);
	wr_bytes(&resp, name, strlen(name));
	wr_bytes(&resp, version, strlen(version));
	wr_u8(&resp, info.flags & (DY_DURABLE | DY_CONCURRENT_READERS));
	wr_u32(&resp, info.max_key);
	wr_u32(&resp, info.max_value);
	wr_u32(&resp, info.max_ns);
	wr_u32(&resp, info.max_request);
	return DY_OK;
}

static dy_status exec_begin(const dy_op *op) {
	dy_status st = need_session(op);
	if (st != DY_OK)
		return st;
	if (tx_find(op->tx) != NULL)
		return dy_fail(DY_BAD_FRAME, "BEGIN: transaction %u is already open", (unsigned)op->tx);
	if (D.begin == NULL)
		return missing(op);
	if (!tx_reserve())
		return dy_fail(DY_FAILED, "BEGIN: out of memory for the transaction table");
	void *h = NULL;
	st = from_driver(op->code, D.begin(session.db, op->writable, &h));
	if (st != DY_OK)
		return st;
	tx_insert((txent){op->tx, op->writable, h});
	wr_u8(&resp, DY_OK);
	return DY_OK;
}

static dy_status exec_get(const dy_op *op) {
	txent *t = NULL;
	dy_status st = need_tx(op, &t);
	if (st != DY_OK)
		return st;
	if (D.get == NULL)
		return missing(op);
	dy_bytes v = {NULL, 0};
	st = from_driver(op->code, D.get(session.db, t->handle, op->ns, op->key, &v));
	if (st == DY_OK && ((v.ptr == NULL && v.len > 0) || v.len > UINT32_MAX))
		return dy_fail(DY_FAILED, "GET: the driver answered a value of %zu bytes at %p", v.len, (const void *)v.ptr);
	if (st == DY_OK) {
		wr_u8(&resp, DY_OK);
		wr_bytes(&resp, v.ptr, v.len);
	} else if (st == DY_NOT_FOUND) {
		wr_u8(&resp, DY_NOT_FOUND);
	}
	return st;
}

static dy_status exec_write(const dy_op *op) {
	txent *t = NULL;
	dy_status st = need_tx(op, &t);
	if (st != DY_OK)
		return st;
	if (!t->writable)
		return dy_fail(DY_READ_ONLY, "%s: transaction %u is read-only", dy_op_name(op->code), (unsigned)op->tx);
	if (op->code == DY_OP_PUT)
		st = D.put ? from_driver(op->code, D.put(session.db, t->handle, op->ns, op->key, op->value)) : missing(op);
	else
		st = D.del ? from_driver(op->code, D.del(session.db, t->handle, op->ns, op->key)) : missing(op);
	if (st == DY_OK)
		wr_u8(&resp, DY_OK);
	return st;
}

/* The page being filled by the scan callback running now. */
struct dy_page {
	uint32_t n, limit;
	size_t payload; /* bytes of the page's payload so far, n and more included */
	int more, full, oversize;
};

int dy_page_add(dy_page *page, dy_bytes key, dy_bytes value) {
	if (page == NULL || page->full)
		return 0;
	if (page->n == page->limit) {
		page->full = page->more = 1;
		return 0;
	}
	if (key.len > UINT32_MAX || value.len > UINT32_MAX || (key.ptr == NULL && key.len > 0) ||
	    (value.ptr == NULL && value.len > 0)) {
		page->full = page->oversize = 1;
		return 0;
	}
	/* Does payload + 8 + key + value stay within the budget? Compared step by step, since the
	 * sum can overflow a 32-bit size_t. payload exceeds the budget only after a single
	 * oversized first entry. */
	int fits = page->payload <= SCAN_PAGE_BUDGET && SCAN_PAGE_BUDGET - page->payload >= 8 &&
	           key.len <= SCAN_PAGE_BUDGET - page->payload - 8 &&
	           value.len <= SCAN_PAGE_BUDGET - page->payload - 8 - key.len;
	if (page->n > 0 && !fits) {
		page->full = page->more = 1;
		return 0;
	}
	wr_bytes(&resp, key.ptr, key.len);
	wr_bytes(&resp, value.ptr, value.len);
	page->n++;
	page->payload = fits ? page->payload + 8 + key.len + value.len : SCAN_PAGE_BUDGET + 1;
	return 1;
}

static dy_status exec_scan(const dy_op *op) {
	txent *t = NULL;
	dy_status st = need_tx(op, &t);
	if (st != DY_OK)
		return st;
	if (D.scan == NULL)
		return missing(op);
	dy_scan s = {op->ns, op->prefix, op->after, op->limit < SCAN_MAX_LIMIT ? op->limit : SCAN_MAX_LIMIT};
	dy_page page = {0, s.limit, 4 + 1, 0, 0, 0};
	wr_u8(&resp, DY_OK);
	size_t n_at = resp.len;
	wr_u32(&resp, 0);
	st = from_driver(op->code, D.scan(session.db, t->handle, &s, &page));
	if (st == DY_OK && page.oversize)
		st = dy_fail(DY_FAILED, "SCAN: the driver offered an entry too large to encode");
	if (st != DY_OK)
		return st;
	wr_put_u32(&resp, n_at, page.n);
	wr_u8(&resp, page.n > 0 && page.more ? 1 : 0); /* a page with no entries never says more */
	return DY_OK;
}

/* exec_end runs COMMIT or ROLLBACK: the transaction ends whatever the driver answers. */
static dy_status exec_end(const dy_op *op) {
	txent *t = NULL;
	dy_status st = need_tx(op, &t);
	if (st != DY_OK)
		return st;
	void *h = t->handle;
	tx_remove(t);
	dy_status (*end)(void *, void *) = op->code == DY_OP_COMMIT ? D.commit : D.rollback;
	st = end ? from_driver(op->code, end(session.db, h)) : missing(op);
	if (st == DY_OK)
		wr_u8(&resp, DY_OK);
	return st;
}

static dy_status exec_ping(const dy_op *op) {
	dy_status st = need_session(op);
	if (st == DY_OK && D.ping != NULL)
		st = from_driver(op->code, D.ping(session.db));
	if (st == DY_OK)
		wr_u8(&resp, DY_OK);
	return st;
}

static dy_status exec_close(const dy_op *op) {
	dy_status st = need_session(op);
	if (st == DY_OK)
		st = session_close();
	if (st == DY_OK)
		wr_u8(&resp, DY_OK);
	return st;
}

static dy_status execute(const dy_op *op) {
	switch (op->code) {
	case DY_OP_HELLO:
		return exec_hello(op);
	case DY_OP_BEGIN:
		return exec_begin(op);
	case DY_OP_GET:
		return exec_get(op);
	case DY_OP_PUT:
	case DY_OP_DELETE:
		return exec_write(op);
	case DY_OP_SCAN:
		return exec_scan(op);
	case DY_OP_COMMIT:
	case DY_OP_ROLLBACK:
		return exec_end(op);
	case DY_OP_PING:
		return exec_ping(op);
	case DY_OP_CLOSE:
		return exec_close(op);
	default: /* decoding admits no other code */
		return dy_fail(DY_BAD_FRAME, "op code %u is not an operation", (unsigned)op->code);
	}
}

/* ---- handling a frame -------------------------------------------------------------------- */

/*
 * check_frame is pass 1: it checks the whole frame in the order docs/abi.md gives and returns
 * OK with *count set, or the refusal (BAD_FRAME or INCOMPATIBLE) with its message set.
 */
static dy_status check_frame(const uint8_t *req, size_t len, uint32_t *count) {
	if (len < DY_HEADER_SIZE)
		return dy_fail(DY_BAD_FRAME, "frame of %zu bytes is shorter than the %d-byte header", len, DY_HEADER_SIZE);
	if (memcmp(req, dy_request_magic, 4) != 0)
		return dy_fail(DY_BAD_FRAME, "magic %02x %02x %02x %02x at offset 0 is not a request's 44 59 51 00 (\"DYQ\\0\")",
		               req[0], req[1], req[2], req[3]);
	dy_reader r = {req, len, 4};
	uint16_t major = 0, minor = 0;
	rd_u16(&r, &major);
	rd_u16(&r, &minor);
	rd_u32(&r, count);
	host_minor = minor;
	if (major != DY_ABI_MAJOR)
		return dy_fail(DY_INCOMPATIBLE, "host speaks ABI %u.%u, guest speaks ABI %u.%u", (unsigned)major,
		               (unsigned)minor, DY_ABI_MAJOR, DY_ABI_MINOR);
	if (*count > rd_left(&r))
		return dy_fail(DY_BAD_FRAME, "count %u at offset %d exceeds the %zu bytes after the header", (unsigned)*count,
		               DY_COUNT_OFFSET, rd_left(&r));
	for (uint32_t i = 0; i < *count; i++) {
		dy_op op;
		char m[DY_DECODE_MSG];
		if (!dy_decode_op(&r, i, &op, m))
			return dy_fail(DY_BAD_FRAME, "%s", m);
	}
	if (rd_left(&r) > 0)
		return dy_fail(DY_BAD_FRAME, "frame has %zu bytes after its last operation, at offset %zu (count %u)",
		               rd_left(&r), r.off, (unsigned)*count);
	return DY_OK;
}

dy_frame dy_handle(const uint8_t *req, size_t len) {
	uint32_t count = 0;
	response_begin();
	msg_set = 0;
	dy_status st = check_frame(req, len, &count);
	if (st != DY_OK) {
		failure_result(0, st);
		return response_end(1);
	}
	/* Pass 2: decode again (the frame is unchanged and checked) and execute. */
	dy_reader r = {req, len, DY_HEADER_SIZE};
	uint32_t results = 0;
	while (results < count) {
		dy_op op;
		char m[DY_DECODE_MSG];
		size_t start = resp.len;
		msg_set = 0;
		st = dy_decode_op(&r, results, &op, m) ? execute(&op) : dy_fail(DY_BAD_FRAME, "%s", m);
		results++;
		if (is_failure(st)) {
			resp.len = start; /* cut off a partial payload */
			failure_result(op.code, st);
			break;
		}
	}
	return response_end(results);
}

dy_frame dy_refuse(dy_status status, const char *fmt, ...) {
	response_begin();
	va_list ap;
	va_start(ap, fmt);
	vset_message(fmt, ap);
	va_end(ap);
	failure_result(0, status);
	return response_end(1);
}
