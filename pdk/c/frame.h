/*
 * frame.h: the wire primitives of the Dockyard ABI (docs/abi.md, "Encoding"), internal to the
 * runtime. All integers are little-endian and unsigned; there is no padding or alignment
 * anywhere. A `bytes` (or `str`) is a u32 length n followed by n bytes.
 *
 * The reader never reads past the end of its buffer: every read checks the bytes left first and
 * leaves the reader where it was when they are too few. The writer grows its buffer as it
 * appends and aborts the process (a trap in wasm) when memory runs out.
 */
#ifndef DOCKYARD_FRAME_H
#define DOCKYARD_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dockyard.h"

/* The 12-byte frame header: magic (4), major u16, minor u16, count u32. */
#define DY_HEADER_SIZE 12
#define DY_COUNT_OFFSET 8
extern const uint8_t dy_request_magic[4];  /* "DYQ\0" */
extern const uint8_t dy_response_magic[4]; /* "DYR\0" */

/* A bounds-checked cursor over buf[0..len). Invariant: off <= len. */
typedef struct dy_reader {
	const uint8_t *buf;
	size_t len, off;
} dy_reader;

static inline size_t rd_left(const dy_reader *r) { return r->len - r->off; }

/* Each returns 1 and advances on success, 0 (reader unchanged) when too few bytes are left.
 * They are inline: decoding calls them for every field. */
static inline int rd_u8(dy_reader *r, uint8_t *v) {
	if (rd_left(r) < 1)
		return 0;
	*v = r->buf[r->off];
	r->off += 1;
	return 1;
}

static inline int rd_u16(dy_reader *r, uint16_t *v) {
	if (rd_left(r) < 2)
		return 0;
	const uint8_t *p = r->buf + r->off;
	*v = (uint16_t)(p[0] | (uint16_t)p[1] << 8);
	r->off += 2;
	return 1;
}

static inline int rd_u32(dy_reader *r, uint32_t *v) {
	if (rd_left(r) < 4)
		return 0;
	const uint8_t *p = r->buf + r->off;
	*v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	r->off += 4;
	return 1;
}

/* rd_span takes the next n bytes as a dy_bytes. */
static inline int rd_span(dy_reader *r, size_t n, dy_bytes *b) {
	if (rd_left(r) < n)
		return 0;
	b->ptr = r->buf + r->off;
	b->len = n;
	r->off += n;
	return 1;
}

/* A growable output buffer. Invariant: len <= cap. */
typedef struct dy_writer {
	uint8_t *buf;
	size_t len, cap;
} dy_writer;

/* wr_grow makes room for n more bytes, reallocating (or aborting when it cannot). */
void wr_grow(dy_writer *w, size_t n);

/* wr_reserve makes room for n more bytes. */
static inline void wr_reserve(dy_writer *w, size_t n) {
	if (w->cap - w->len < n)
		wr_grow(w, n);
}

static inline void wr_raw(dy_writer *w, const void *p, size_t n) {
	if (n == 0)
		return; /* p may be NULL */
	wr_reserve(w, n);
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static inline void wr_u8(dy_writer *w, uint8_t v) {
	wr_reserve(w, 1);
	w->buf[w->len++] = v;
}

static inline void wr_u16(dy_writer *w, uint16_t v) {
	wr_reserve(w, 2);
	w->buf[w->len++] = (uint8_t)v;
	w->buf[w->len++] = (uint8_t)(v >> 8);
}

/* wr_put_u32 writes v at offset off, which must be at most len - 4 (a count patched in
 * afterwards) or len itself after a wr_reserve of 4. */
static inline void wr_put_u32(dy_writer *w, size_t off, uint32_t v) {
	uint8_t *p = w->buf + off;
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void wr_u32(dy_writer *w, uint32_t v) {
	wr_reserve(w, 4);
	wr_put_u32(w, w->len, v);
	w->len += 4;
}

/* wr_bytes writes a `bytes`: the u32 length, then the bytes. n must be <= UINT32_MAX. */
static inline void wr_bytes(dy_writer *w, const void *p, size_t n) {
	wr_u32(w, (uint32_t)n);
	wr_raw(w, p, n);
}

/* wr_header writes a frame header. */
void wr_header(dy_writer *w, const uint8_t magic[4], uint16_t major, uint16_t minor, uint32_t count);

/* dy_die writes "dockyard: <message>" to stderr and aborts: for a runtime that cannot go on
 * (out of memory while building a response). */
_Noreturn void dy_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* DOCKYARD_FRAME_H */
