/*
 * request.h: decoding the operations of a request frame (docs/abi.md, "Operations"), internal
 * to the runtime.
 *
 * A request frame is the 12-byte header followed by `count` operations, back to back. An
 * operation is an op code (u8) followed by its fields:
 *
 *   1 HELLO     major u16, minor u16, dsn str, options bytes
 *   2 BEGIN     tx u32, writable u8 (0 or 1; tx not 0)
 *   3 GET       tx u32, ns bytes, key bytes
 *   4 PUT       tx u32, ns bytes, key bytes, value bytes
 *   5 DELETE    tx u32, ns bytes, key bytes
 *   6 SCAN      tx u32, ns bytes, prefix bytes, after bytes, limit u32 (not 0)
 *   7 COMMIT    tx u32
 *   8 ROLLBACK  tx u32
 *   9 PING      (nothing)
 *  10 CLOSE     (nothing)
 *
 * Decoding never reads past the frame and never trusts a length: a `bytes` length is compared
 * with the bytes actually left before anything is taken. Decoded byte strings point into the
 * frame; nothing is allocated.
 */
#ifndef DOCKYARD_REQUEST_H
#define DOCKYARD_REQUEST_H

#include "frame.h"

enum {
	DY_OP_HELLO = 1,
	DY_OP_BEGIN = 2,
	DY_OP_GET = 3,
	DY_OP_PUT = 4,
	DY_OP_DELETE = 5,
	DY_OP_SCAN = 6,
	DY_OP_COMMIT = 7,
	DY_OP_ROLLBACK = 8,
	DY_OP_PING = 9,
	DY_OP_CLOSE = 10
};

/* One decoded operation; which fields are set depends on code. */
typedef struct dy_op {
	uint8_t code;
	size_t offset;                  /* of the op code in the frame */
	uint16_t major, minor;          /* HELLO */
	dy_bytes dsn, options;          /* HELLO */
	uint32_t tx;                    /* BEGIN GET PUT DELETE SCAN COMMIT ROLLBACK */
	uint8_t writable;               /* BEGIN */
	dy_bytes ns, key, value;        /* GET PUT DELETE (ns, key); PUT (value) */
	dy_bytes prefix, after;         /* SCAN (with ns) */
	uint32_t limit;                 /* SCAN */
} dy_op;

/* The longest decoding error message. */
#define DY_DECODE_MSG 256

/*
 * dy_decode_op decodes operation number index (0-based) at r's position into *op and returns 1,
 * or returns 0 and writes into msg why the frame is malformed, naming the op and the byte
 * offset: "op 2 (PUT): value length 1000 exceeds the 12 bytes left at offset 40".
 */
int dy_decode_op(dy_reader *r, uint32_t index, dy_op *op, char msg[DY_DECODE_MSG]);

/* dy_op_name is the name of an op code ("PUT"), or "?" for a code that is not an op. */
const char *dy_op_name(uint8_t code);

#endif /* DOCKYARD_REQUEST_H */
