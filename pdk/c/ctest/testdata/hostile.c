/*
 * hostile.c: a C module that breaks the ABI on purpose, for the tests of host/wasmhost's defences.
 *
 * It is cinmem served by the real runtime, behind its own exports instead of pdk/c/wasm.c:
 * every request is handled normally, but when the request holds one of the markers below (a
 * key such as "!bad-status"), the answer is sabotaged after the runtime built it:
 *
 *   !ptr-past-memory   the response pointer lies past the end of memory
 *   !len-past-memory   the response runs past the end of memory
 *   !len-huge          the response length is 0xffffffff
 *   !bad-status        the last result's status becomes 20, a reserved code
 *   !truncated         the response loses its last byte
 *   !trailing          three bytes follow the last result
 *   !extra-result      the count says one result more than the response holds
 *   !not-found-commit  the last result (a COMMIT's OK) becomes NOT_FOUND
 *   !message-past-end  the last result becomes a failure whose message runs past the frame
 *   !other-major       the response header says ABI 2.0
 *   !trap              dockyard_call traps (unreachable)
 *   !loop              dockyard_call never returns
 *   !oom               the module allocates until memory runs out, and dies as the runtime
 *                      does then (a line on stderr, abort)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockyard.h"

#define EXPORT(name) __attribute__((export_name(name)))

EXPORT("dockyard_buffer") uint32_t dockyard_buffer(uint32_t size);
EXPORT("dockyard_call") uint64_t dockyard_call(uint32_t len);

static uint8_t *request;
static size_t request_cap;

uint32_t dockyard_buffer(uint32_t size) {
	if (request == NULL || size > request_cap) {
		free(request);
		request_cap = size > 65536 ? size : 65536;
		request = malloc(request_cap);
		if (request == NULL)
			abort();
	}
	return (uint32_t)(uintptr_t)request;
}

static int has(const uint8_t *p, size_t n, const char *marker) {
	size_t m = strlen(marker);
	for (size_t i = 0; m <= n && i <= n - m; i++)
		if (memcmp(p + i, marker, m) == 0)
			return 1;
	return 0;
}

static void *volatile leak;
static volatile uint64_t spins;

/* A copy of the response, for sabotage that changes its size. */
static uint8_t copy[1 << 16];

static uint64_t answer(const void *p, size_t n) { return (uint64_t)(uintptr_t)p << 32 | (uint64_t)n; }

uint64_t dockyard_call(uint32_t len) {
	if (len > request_cap)
		abort();
	const uint8_t *req = request;
	size_t memory = __builtin_wasm_memory_size(0) * 65536;
	if (has(req, len, "!trap"))
		__builtin_trap();
	if (has(req, len, "!loop"))
		for (;;)
			spins++;
	if (has(req, len, "!oom")) {
		for (size_t n = 0;; n++) {
			void *p = malloc(1 << 20);
			if (p == NULL) {
				fprintf(stderr, "dockyard: out of memory after %zu MiB\n", n);
				abort();
			}
			leak = p; /* kept, or the compiler drops the allocation */
		}
	}
	dy_frame r = dy_handle(req, len);
	uint8_t *resp = (uint8_t *)r.ptr; /* the runtime's buffer: ours to spoil until the next call */
	size_t n = r.len;
	if (has(req, len, "!ptr-past-memory"))
		return answer((void *)(uintptr_t)(memory + 16), 16);
	if (has(req, len, "!len-past-memory"))
		return answer(resp, memory - (uintptr_t)resp + 1);
	if (has(req, len, "!len-huge"))
		return answer(resp, 0xffffffffu);
	if (has(req, len, "!bad-status"))
		resp[n - 1] = 20; /* a GET of a missing key: its NOT_FOUND is the last byte */
	if (has(req, len, "!truncated"))
		n--;
	if (has(req, len, "!not-found-commit"))
		resp[n - 1] = 1; /* an Update that only writes: the COMMIT's OK is the last byte */
	if (has(req, len, "!other-major"))
		resp[4] = 2;
	if (has(req, len, "!extra-result"))
		resp[8]++;
	if (has(req, len, "!trailing") && n + 3 <= sizeof copy) {
		memcpy(copy, resp, n);
		memcpy(copy + n, "\x01\x02\x03", 3);
		return answer(copy, n + 3);
	}
	if (has(req, len, "!message-past-end") && n + 8 <= sizeof copy) {
		memcpy(copy, resp, n);
		copy[n - 1] = DY_FAILED; /* in place of the GET's NOT_FOUND */
		memcpy(copy + n, "\xe8\x03\x00\x00" "abc", 7); /* 1000 bytes of message, 3 present */
		return answer(copy, n + 7);
	}
	return answer(resp, n);
}
