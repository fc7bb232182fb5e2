/*
 * fuzz.c: a libFuzzer target for the C runtime and cinmem, built natively with
 * AddressSanitizer and UndefinedBehaviorSanitizer by TestFuzzNative. Each input is one request
 * frame, handled in a fresh session: HELLO, the input, CLOSE (which rolls back whatever the
 * input left open). The sanitizers catch any read outside the frame and any undefined
 * behaviour; the checks below catch a response that is not a response frame.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dockyard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t hello[] = {
    0x44, 0x59, 0x51, 0x00, 1, 0, 0, 0, 1, 0, 0, 0, /* header: ABI 1.0, count 1 */
    1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,          /* HELLO 1.0, dsn "", options "" */
};
static const uint8_t close_op[] = {0x44, 0x59, 0x51, 0x00, 1, 0, 0, 0, 1, 0, 0, 0, 10};

static uint32_t le32(const uint8_t *p) {
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* check aborts unless resp is a response frame of at most max results. */
static void check(dy_frame resp, size_t max) {
	if (resp.ptr == NULL || resp.len < 12 || memcmp(resp.ptr, "DYR\0", 4) != 0 || resp.ptr[4] != 1 || resp.ptr[5] != 0)
		abort();
	if (le32(resp.ptr + 8) > max)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	check(dy_handle(hello, sizeof hello), 1);
	/* A request of count n answers at most n results, or 1 (a refusal); n <= size - 12. */
	check(dy_handle(data, size), size > 13 ? size - 12 : 1);
	check(dy_handle(close_op, sizeof close_op), 1);
	return 0;
}
