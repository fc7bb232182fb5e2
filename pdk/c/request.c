/* request.c: decoding one operation of a request frame; see request.h. */
#include "request.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *dy_op_name(uint8_t code) {
	static const char *const names[] = {
	    "?", "HELLO", "BEGIN", "GET", "PUT", "DELETE", "SCAN", "COMMIT", "ROLLBACK", "PING", "CLOSE",
	};
	return code < sizeof names / sizeof names[0] ? names[code] : "?";
}

/* The decoding of one op: the reader, and where to say what went wrong. */
typedef struct dec {
	dy_reader *r;
	uint32_t index;
	uint8_t code;
	char *msg;
} dec;

/* fail formats "op <index> (<NAME>): <what>" into the message and returns 0. */
__attribute__((format(printf, 2, 3))) static int fail(dec *d, const char *fmt, ...) {
	int n = snprintf(d->msg, DY_DECODE_MSG, "op %u (%s): ", (unsigned)d->index, dy_op_name(d->code));
	if (n < 0 || n >= DY_DECODE_MSG)
		return 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->msg + n, (size_t)(DY_DECODE_MSG - n), fmt, ap);
	va_end(ap);
	return 0;
}

static int cut_short(dec *d, const char *field, size_t want) {
	return fail(d, "%s cut short at offset %zu: %zu of %zu bytes left", field, d->r->off, rd_left(d->r), want);
}

static int f_u8(dec *d, const char *field, uint8_t *v) { return rd_u8(d->r, v) || cut_short(d, field, 1); }
static int f_u16(dec *d, const char *field, uint16_t *v) { return rd_u16(d->r, v) || cut_short(d, field, 2); }
static int f_u32(dec *d, const char *field, uint32_t *v) { return rd_u32(d->r, v) || cut_short(d, field, 4); }

/* f_bytes reads a `bytes`: its u32 length, checked against the bytes left, then the bytes. */
static int f_bytes(dec *d, const char *field, dy_bytes *b) {
	uint32_t n;
	if (!rd_u32(d->r, &n)) {
		char what[32];
		snprintf(what, sizeof what, "%s length", field);
		return cut_short(d, what, 4);
	}
	if (n > rd_left(d->r))
		return fail(d, "%s length %u exceeds the %zu bytes left at offset %zu", field, (unsigned)n,
		            rd_left(d->r), d->r->off);
	return rd_span(d->r, n, b);
}

static int f_tx(dec *d, dy_op *op) { return f_u32(d, "tx", &op->tx); }

static int decode_hello(dec *d, dy_op *op) {
	return f_u16(d, "major", &op->major) && f_u16(d, "minor", &op->minor) && f_bytes(d, "dsn", &op->dsn) &&
	       f_bytes(d, "options", &op->options);
}

static int decode_begin(dec *d, dy_op *op) {
	size_t at = d->r->off;
	if (!f_tx(d, op))
		return 0;
	if (op->tx == 0)
		return fail(d, "tx 0 at offset %zu: a transaction id is never 0", at);
	at = d->r->off;
	if (!f_u8(d, "writable", &op->writable))
		return 0;
	if (op->writable > 1)
		return fail(d, "writable byte %u at offset %zu is not 0 or 1", (unsigned)op->writable, at);
	return 1;
}

static int decode_scan(dec *d, dy_op *op) {
	if (!(f_tx(d, op) && f_bytes(d, "ns", &op->ns) && f_bytes(d, "prefix", &op->prefix) &&
	      f_bytes(d, "after", &op->after)))
		return 0;
	size_t at = d->r->off;
	if (!f_u32(d, "limit", &op->limit))
		return 0;
	if (op->limit == 0)
		return fail(d, "limit 0 at offset %zu: a page holds at least one entry", at);
	return 1;
}

int dy_decode_op(dy_reader *r, uint32_t index, dy_op *op, char msg[DY_DECODE_MSG]) {
	memset(op, 0, sizeof *op);
	op->offset = r->off;
	dec d = {r, index, 0, msg};
	if (!rd_u8(r, &op->code)) {
		snprintf(msg, DY_DECODE_MSG, "op %u: op code missing at offset %zu: the frame ends", (unsigned)index, r->off);
		return 0;
	}
	d.code = op->code;
	switch (op->code) {
	case DY_OP_HELLO:
		return decode_hello(&d, op);
	case DY_OP_BEGIN:
		return decode_begin(&d, op);
	case DY_OP_GET:
	case DY_OP_DELETE:
		return f_tx(&d, op) && f_bytes(&d, "ns", &op->ns) && f_bytes(&d, "key", &op->key);
	case DY_OP_PUT:
		return f_tx(&d, op) && f_bytes(&d, "ns", &op->ns) && f_bytes(&d, "key", &op->key) &&
		       f_bytes(&d, "value", &op->value);
	case DY_OP_SCAN:
		return decode_scan(&d, op);
	case DY_OP_COMMIT:
	case DY_OP_ROLLBACK:
		return f_tx(&d, op);
	case DY_OP_PING:
	case DY_OP_CLOSE:
		return 1;
	default:
		snprintf(msg, DY_DECODE_MSG, "op %u: unknown op code %u at offset %zu", (unsigned)index,
		         (unsigned)op->code, op->offset);
		return 0;
	}
}
