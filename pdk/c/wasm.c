/*
 * wasm.c: the WebAssembly binding of the ABI (docs/abi.md, "WebAssembly binding") for the C
 * runtime. The module is a WASI preview-1 reactor (clang -mexec-model=reactor gives it
 * `_initialize`; wasm-ld exports `memory`) exporting two functions:
 *
 *   dockyard_buffer(size i32) -> i32   a pointer to the request buffer, at least size bytes
 *   dockyard_call(len i32) -> i64      handles the request of len bytes in that buffer and
 *                                      returns (response pointer << 32) | response length
 *
 * The request buffer is persistent: it moves (is reallocated) only inside dockyard_buffer, when
 * the size asked for exceeds it, or when a buffer over 1 MiB is asked for a quarter of it or
 * less (the host's cue to let it go). Between two dockyard_buffer calls it stays at the same
 * address and size, so the host writes each request into it and calls dockyard_call alone
 * whenever the request fits the size it last asked for; a longer len is refused as a malformed
 * frame, unread. The response lies in the runtime's response buffer (dockyard.c), which is
 * separate and reused from call to call; it is valid until the next dockyard_call
 * (dockyard_buffer does not touch it).
 */
#ifndef __wasm__
#error "wasm.c is the WebAssembly binding: build it with --target=wasm32-wasi"
#endif

#include <stdint.h>
#include <stdlib.h>

#include "dockyard.h"
#include "frame.h"

#define EXPORT(name) __attribute__((export_name(name)))

EXPORT("dockyard_buffer") uint32_t dockyard_buffer(uint32_t size);
EXPORT("dockyard_call") uint64_t dockyard_call(uint32_t len);

/* The smallest request buffer, and the size above which a request of a quarter of it or less
 * releases it. */
#define REQUEST_MIN ((size_t)64 << 10)
#define REQUEST_KEEP ((size_t)1 << 20)

static uint8_t *request;
static size_t request_cap;  /* the buffer's size */
static size_t request_size; /* the size the host last asked for: it writes at most that */

uint32_t dockyard_buffer(uint32_t size) {
	int shrink = request_cap > REQUEST_KEEP && (size_t)size <= request_cap / 4;
	if (request == NULL || size > request_cap || shrink) {
		/* The contents need not survive: free first, so the old and new buffers never
		 * coexist. */
		free(request);
		size_t cap = size > REQUEST_MIN ? size : REQUEST_MIN;
		request = malloc(cap);
		if (request == NULL) {
			request_cap = request_size = 0;
			dy_die("out of memory: cannot allocate a request buffer of %zu bytes", cap);
		}
		request_cap = cap;
	}
	request_size = size;
	return (uint32_t)(uintptr_t)request;
}

uint64_t dockyard_call(uint32_t len) {
	dy_frame resp;
	if ((size_t)len > request_size)
		resp = dy_refuse(DY_BAD_FRAME, "request of %u bytes exceeds the %zu bytes last asked of dockyard_buffer",
		                 (unsigned)len, request_size);
	else
		resp = dy_handle(request, len);
	return (uint64_t)(uintptr_t)resp.ptr << 32 | (uint64_t)resp.len;
}
