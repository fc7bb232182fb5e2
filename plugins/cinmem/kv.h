/*
 * kv.h: an ordered map from (namespace, key) to a chain of versions: a skip list, which keeps
 * the order scans need, with a hash index beside it for the lookups of GET, PUT and COMMIT.
 * Entries sort by namespace, then key, both compared as unsigned bytes (a proper prefix first).
 *
 * cinmem keeps two kinds of maps: the store, whose entries hold committed versions newest
 * first (a reader walks the chain to the newest version its snapshot may see), and a write
 * transaction's pending changes, whose entries hold exactly one version with seq 0.
 */
#ifndef CINMEM_KV_H
#define CINMEM_KV_H

#include <stddef.h>
#include <stdint.h>

#include "dockyard.h"

/* One value of an entry: committed at seq (0: pending), or a deletion (a tombstone). */
typedef struct version {
	struct version *older;
	uint64_t seq;
	int deleted;
	size_t len;
	uint8_t data[]; /* len bytes of value */
} version;

#define KV_MAX_HEIGHT 24

typedef struct kv_entry {
	version *newest;            /* NULL: no version yet (absent for everyone) */
	/* For cinmem: a store entry's next entry in the list of entries to collect (when dirty);
	 * a pending change's entry in the store (while committing). */
	struct kv_entry *link;
	int dirty;
	uint64_t hash; /* of (namespace, key), for the index */
	size_t nslen, keylen;
	uint8_t *bytes; /* nslen bytes of namespace, then keylen bytes of key */
	int height;
	struct kv_entry *next[]; /* height forward links */
} kv_entry;

typedef struct kv_map {
	kv_entry *head; /* a sentinel of KV_MAX_HEIGHT links, no key */
	int height;
	uint64_t rng;
	size_t count;
	/* The index: open addressing with linear probing, a power-of-two table at most 3/4 full;
	 * NULL slots are empty. The hash is keyed by seed, drawn from getentropy. */
	kv_entry **slots;
	size_t mask;
	uint64_t seed;
} kv_map;

/* kv_init prepares an empty map; 0 when memory ran out. */
int kv_init(kv_map *m);
/* kv_free frees every entry and its versions, and the map. */
void kv_free(kv_map *m);

static inline dy_bytes kv_ns(const kv_entry *e) { return (dy_bytes){e->bytes, e->nslen}; }
static inline dy_bytes kv_key(const kv_entry *e) { return (dy_bytes){e->bytes + e->nslen, e->keylen}; }

/* kv_seek returns the first entry at or after (ns, key), or NULL (a skip-list search). */
kv_entry *kv_seek(const kv_map *m, dy_bytes ns, dy_bytes key);
/* kv_find returns the entry of exactly (ns, key), or NULL (an index lookup). */
kv_entry *kv_find(const kv_map *m, dy_bytes ns, dy_bytes key);
/* kv_upsert returns the entry of (ns, key), inserting one without versions if there is none;
 * NULL when memory ran out. */
kv_entry *kv_upsert(kv_map *m, dy_bytes ns, dy_bytes key);
/* kv_remove unlinks e and frees it with its versions. */
void kv_remove(kv_map *m, kv_entry *e);

static inline kv_entry *kv_first(const kv_map *m) { return m->head->next[0]; }
static inline kv_entry *kv_next(const kv_entry *e) { return e->next[0]; }

/* bytes_cmp compares two byte strings in unsigned bytewise order: <0, 0, >0. */
int bytes_cmp(dy_bytes a, dy_bytes b);
/* kv_cmp compares e's (namespace, key) with (ns, key). */
int kv_cmp(const kv_entry *e, dy_bytes ns, dy_bytes key);

/* version_new returns a version holding a copy of value (or a tombstone); NULL when memory ran
 * out. version_free_chain frees v and every older version. */
version *version_new(uint64_t seq, int deleted, dy_bytes value);
void version_free_chain(version *v);

#endif /* CINMEM_KV_H */
