/* kv.c: the skip list and hash index of kv.h. */
#include "kv.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

int bytes_cmp(dy_bytes a, dy_bytes b) {
	size_t n = a.len < b.len ? a.len : b.len;
	int c = n ? memcmp(a.ptr, b.ptr, n) : 0; /* memcmp wants valid pointers even for 0 bytes */
	if (c != 0)
		return c;
	return (a.len > b.len) - (a.len < b.len);
}

int kv_cmp(const kv_entry *e, dy_bytes ns, dy_bytes key) {
	int c = bytes_cmp(kv_ns(e), ns);
	return c != 0 ? c : bytes_cmp(kv_key(e), key);
}

/* ---- hashing ----------------------------------------------------------------------------- */

#define K1 0x9E3779B97F4A7C15ull
#define K2 0xFF51AFD7ED558CCDull

/* hash_bytes mixes n bytes into h, 8 at a time, then their length. */
static uint64_t hash_bytes(uint64_t h, const uint8_t *p, size_t n) {
	uint64_t w;
	size_t len = n;
	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * K1;
		h ^= h >> 32;
	}
	w = 0;
	if (n)
		memcpy(&w, p, n);
	h = (h ^ w ^ (uint64_t)len << 40) * K1;
	return h ^ h >> 29;
}

static uint64_t hash_of(const kv_map *m, dy_bytes ns, dy_bytes key) {
	uint64_t h = hash_bytes(hash_bytes(m->seed, ns.ptr, ns.len), key.ptr, key.len);
	h = (h ^ h >> 33) * K2;
	return h ^ h >> 33;
}

static int same(const kv_entry *e, uint64_t h, dy_bytes ns, dy_bytes key) {
	return e->hash == h && e->nslen == ns.len && e->keylen == key.len && (ns.len == 0 || memcmp(e->bytes, ns.ptr, ns.len) == 0) &&
	       (key.len == 0 || memcmp(e->bytes + ns.len, key.ptr, key.len) == 0);
}

/* ---- the index --------------------------------------------------------------------------- */

/* index_place puts e in the first empty slot of its probe sequence (there is one). */
static void index_place(kv_entry **slots, size_t mask, kv_entry *e) {
	size_t i = (size_t)e->hash & mask;
	while (slots[i] != NULL)
		i = (i + 1) & mask;
	slots[i] = e;
}

/* index_reserve makes room for one more entry; 0 when memory ran out. */
static int index_reserve(kv_map *m) {
	size_t size = m->mask + 1;
	if (m->slots != NULL && (m->count + 1) <= size / 4 * 3)
		return 1;
	size_t grown = m->slots == NULL ? 64 : size * 2;
	if (grown > SIZE_MAX / sizeof(kv_entry *))
		return 0;
	kv_entry **slots = calloc(grown, sizeof(kv_entry *));
	if (slots == NULL)
		return 0;
	for (kv_entry *e = m->head->next[0]; e != NULL; e = e->next[0])
		index_place(slots, grown - 1, e);
	free(m->slots);
	m->slots = slots;
	m->mask = grown - 1;
	return 1;
}

/* index_delete removes e, shifting back the entries after it that probed past its slot. */
static void index_delete(kv_map *m, const kv_entry *e) {
	size_t i = (size_t)e->hash & m->mask;
	while (m->slots[i] != e)
		i = (i + 1) & m->mask;
	for (size_t j = i;;) {
		j = (j + 1) & m->mask;
		kv_entry *x = m->slots[j];
		if (x == NULL)
			break;
		size_t home = (size_t)x->hash & m->mask;
		/* x may move to the hole at i unless its home lies cyclically in (i, j]. */
		int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!stays) {
			m->slots[i] = x;
			i = j;
		}
	}
	m->slots[i] = NULL;
}

/* ---- the skip list ----------------------------------------------------------------------- */

static kv_entry *entry_new(int height, dy_bytes ns, dy_bytes key) {
	size_t links = (size_t)height * sizeof(kv_entry *);
	if (ns.len > SIZE_MAX - key.len || ns.len + key.len > SIZE_MAX - sizeof(kv_entry) - links)
		return NULL;
	kv_entry *e = malloc(sizeof(kv_entry) + links + ns.len + key.len);
	if (e == NULL)
		return NULL;
	memset(e, 0, sizeof(kv_entry) + links);
	e->height = height;
	e->nslen = ns.len;
	e->keylen = key.len;
	e->bytes = (uint8_t *)e + sizeof(kv_entry) + links;
	if (ns.len)
		memcpy(e->bytes, ns.ptr, ns.len);
	if (key.len)
		memcpy(e->bytes + ns.len, key.ptr, key.len);
	return e;
}

int kv_init(kv_map *m) {
	memset(m, 0, sizeof *m);
	m->head = entry_new(KV_MAX_HEIGHT, (dy_bytes){NULL, 0}, (dy_bytes){NULL, 0});
	m->height = 1;
	static uint64_t seed;
	if (seed == 0 && (getentropy(&seed, sizeof seed) != 0 || seed == 0))
		seed = K2;
	m->seed = seed;
	m->rng = seed | 1; /* xorshift state: never 0 */
	return m->head != NULL;
}

void version_free_chain(version *v) {
	while (v != NULL) {
		version *older = v->older;
		free(v);
		v = older;
	}
}

void kv_free(kv_map *m) {
	if (m->head == NULL)
		return;
	for (kv_entry *e = m->head->next[0]; e != NULL;) {
		kv_entry *next = e->next[0];
		version_free_chain(e->newest);
		free(e);
		e = next;
	}
	free(m->head);
	free(m->slots);
	memset(m, 0, sizeof *m);
}

/* random_height draws a height with P(h) = 4^-(h-1) * 3/4 (xorshift64). */
static int random_height(kv_map *m) {
	uint64_t x = m->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	m->rng = x;
	int h = 1;
	while (h < KV_MAX_HEIGHT && (x & 3) == 0) {
		h++;
		x >>= 2;
	}
	return h;
}

/* search fills before[i] with the last entry at level i that sorts before (ns, key): the head
 * at the levels above the list's height. */
static void search(const kv_map *m, dy_bytes ns, dy_bytes key, kv_entry *before[KV_MAX_HEIGHT]) {
	kv_entry *x = m->head;
	for (int i = KV_MAX_HEIGHT - 1; i >= m->height; i--)
		before[i] = m->head;
	for (int i = m->height - 1; i >= 0; i--) {
		while (x->next[i] != NULL && kv_cmp(x->next[i], ns, key) < 0)
			x = x->next[i];
		before[i] = x;
	}
}

kv_entry *kv_seek(const kv_map *m, dy_bytes ns, dy_bytes key) {
	kv_entry *before[KV_MAX_HEIGHT];
	search(m, ns, key, before);
	return before[0]->next[0];
}

/* find looks (ns, key), whose hash is h, up in the index. */
static kv_entry *find(const kv_map *m, uint64_t h, dy_bytes ns, dy_bytes key) {
	if (m->slots == NULL)
		return NULL;
	for (size_t i = (size_t)h & m->mask; m->slots[i] != NULL; i = (i + 1) & m->mask)
		if (same(m->slots[i], h, ns, key))
			return m->slots[i];
	return NULL;
}

kv_entry *kv_find(const kv_map *m, dy_bytes ns, dy_bytes key) { return find(m, hash_of(m, ns, key), ns, key); }

kv_entry *kv_upsert(kv_map *m, dy_bytes ns, dy_bytes key) {
	uint64_t hash = hash_of(m, ns, key);
	kv_entry *e = find(m, hash, ns, key);
	if (e != NULL)
		return e;
	if (!index_reserve(m))
		return NULL;
	int h = random_height(m);
	e = entry_new(h, ns, key);
	if (e == NULL)
		return NULL;
	e->hash = hash;
	kv_entry *before[KV_MAX_HEIGHT];
	search(m, ns, key, before);
	if (h > m->height)
		m->height = h;
	for (int i = 0; i < h; i++) {
		e->next[i] = before[i]->next[i];
		before[i]->next[i] = e;
	}
	index_place(m->slots, m->mask, e);
	m->count++;
	return e;
}

void kv_remove(kv_map *m, kv_entry *e) {
	kv_entry *before[KV_MAX_HEIGHT];
	search(m, kv_ns(e), kv_key(e), before);
	for (int i = 0; i < e->height; i++)
		if (before[i]->next[i] == e)
			before[i]->next[i] = e->next[i];
	while (m->height > 1 && m->head->next[m->height - 1] == NULL)
		m->height--;
	index_delete(m, e);
	version_free_chain(e->newest);
	free(e);
	m->count--;
}

version *version_new(uint64_t seq, int deleted, dy_bytes value) {
	size_t len = deleted ? 0 : value.len;
	if (len > SIZE_MAX - sizeof(version))
		return NULL;
	version *v = malloc(sizeof(version) + len);
	if (v == NULL)
		return NULL;
	v->older = NULL;
	v->seq = seq;
	v->deleted = deleted;
	v->len = len;
	if (len)
		memcpy(v->data, value.ptr, len);
	return v;
}
