/* frame.c: the out-of-line parts of frame.h. */
#include "frame.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const uint8_t dy_request_magic[4] = {0x44, 0x59, 0x51, 0x00};
const uint8_t dy_response_magic[4] = {0x44, 0x59, 0x52, 0x00};

void dy_die(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	fputs("dockyard: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	fflush(stderr);
	abort();
}

void wr_grow(dy_writer *w, size_t n) {
	if (n > SIZE_MAX - w->len)
		dy_die("out of memory: response of more than %zu bytes", (size_t)SIZE_MAX);
	size_t need = w->len + n;
	size_t cap = w->cap ? w->cap : 4096;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	uint8_t *p = realloc(w->buf, cap);
	if (p == NULL)
		dy_die("out of memory: cannot grow the response buffer to %zu bytes", cap);
	w->buf = p;
	w->cap = cap;
}

void wr_header(dy_writer *w, const uint8_t magic[4], uint16_t major, uint16_t minor, uint32_t count) {
	wr_raw(w, magic, 4);
	wr_u16(w, major);
	wr_u16(w, minor);
	wr_u32(w, count);
}
