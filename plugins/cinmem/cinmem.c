/*
 * cinmem.c: an in-memory Dockyard driver in C, on the C driver kit (pdk/c). It is an ordered
 * store with real transactions and concurrent readers (DY_CONCURRENT_READERS):
 *
 *  - the store (kv.h) keeps, for each (namespace, key), its committed versions newest first,
 *    each stamped with the sequence number of the commit that wrote it;
 *  - a transaction reads the snapshot of the last commit before its BEGIN: the newest version
 *    of each entry whose seq is at most its snapshot, a tombstone reading as absent;
 *  - a write transaction keeps its changes in a private map of pending versions, which its own
 *    GET and SCAN read first; COMMIT stamps them with the next seq and links them in front of
 *    the store's versions (nothing can fail once linking starts: every store entry is found or
 *    created first), ROLLBACK frees them;
 *  - versions no open transaction can see any more are freed at once when a commit adds a
 *    newer one, or later, when the oldest snapshot that needed them ends.
 *
 * Namespaces and keys are byte strings compared as unsigned bytes; limits are the store's:
 * namespace 256 B, key 1024 B, value 4 MiB. Running out of memory fails the operation
 * (FAILED) and leaves the store as it was.
 */
#include <stdlib.h>
#include <string.h>

#include "dockyard.h"
#include "kv.h"

#define MAX_NS 256
#define MAX_KEY 1024
#define MAX_VALUE ((size_t)4 << 20)

typedef struct tx {
	struct tx *prev, *next; /* the open transactions */
	uint64_t snap;          /* the seq of the last commit before BEGIN */
	int writable;
	kv_map writes; /* pending changes (writable only): one version each, seq 0 */
} tx;

typedef struct db {
	kv_map store;
	uint64_t committed; /* the seq of the last commit */
	tx *open;
	kv_entry *dirty;       /* entries that hold versions to collect later */
	uint64_t collected_at; /* the oldest snapshot at the last collection */
} db;

static dy_status out_of_memory(const char *what) { return dy_fail(DY_FAILED, "cinmem: out of memory %s", what); }

/* ---- versions and collection --------------------------------------------------------------- */

/* visible is the version of e a snapshot sees: the newest with seq <= snap, or NULL. */
static version *visible(const kv_entry *e, uint64_t snap) {
	version *v = e ? e->newest : NULL;
	while (v != NULL && v->seq > snap)
		v = v->older;
	return v;
}

/* oldest_snapshot is the snapshot of the oldest open transaction, or the last commit. */
static uint64_t oldest_snapshot(const db *d) {
	uint64_t min = d->committed;
	for (const tx *t = d->open; t != NULL; t = t->next)
		if (t->snap < min)
			min = t->snap;
	return min;
}

/*
 * prune frees the versions of e that no snapshot >= min can see (those older than the newest
 * version at or below min) and removes e once all it says is a deletion everyone sees. An entry
 * still holding an older version or a tombstone goes on the dirty list for a later collection.
 * e must not be on the dirty list.
 */
static void prune(db *d, kv_entry *e, uint64_t min) {
	version *v = visible(e, min);
	if (v != NULL) {
		version_free_chain(v->older);
		v->older = NULL;
	}
	if (e->newest == NULL || (e->newest == v && v->deleted)) {
		kv_remove(&d->store, e);
		return;
	}
	if (e->newest->older != NULL || e->newest->deleted) {
		e->dirty = 1;
		e->link = d->dirty;
		d->dirty = e;
	}
}

/* collect prunes the dirty entries, when the oldest snapshot has moved since it last did. */
static void collect(db *d) {
	uint64_t min = oldest_snapshot(d);
	if (min == d->collected_at || d->dirty == NULL)
		return;
	d->collected_at = min;
	kv_entry *list = d->dirty;
	d->dirty = NULL;
	while (list != NULL) {
		kv_entry *e = list;
		list = e->link;
		e->link = NULL;
		e->dirty = 0;
		prune(d, e, min);
	}
}

/* ---- transactions ------------------------------------------------------------------------ */

/* tx_unlink takes t off the list of open transactions. */
static void tx_unlink(db *d, tx *t) {
	if (t->prev)
		t->prev->next = t->next;
	else
		d->open = t->next;
	if (t->next)
		t->next->prev = t->prev;
}

/* tx_end ends t: frees it and its pending changes, and collects what it alone still saw. */
static void tx_end(db *d, tx *t) {
	tx_unlink(d, t);
	if (t->writable)
		kv_free(&t->writes);
	free(t);
	collect(d);
}

static dy_status cin_begin(void *dbp, int writable, void **txp) {
	db *d = dbp;
	tx *t = calloc(1, sizeof *t);
	if (t == NULL)
		return out_of_memory("beginning a transaction");
	if (writable && !kv_init(&t->writes)) {
		free(t);
		return out_of_memory("beginning a transaction");
	}
	t->snap = d->committed;
	t->writable = writable;
	t->next = d->open;
	if (d->open)
		d->open->prev = t;
	d->open = t;
	*txp = t;
	return DY_OK;
}

static dy_status cin_commit(void *dbp, void *txp) {
	db *d = dbp;
	tx *t = txp;
	if (!t->writable || t->writes.count == 0) {
		tx_end(d, t);
		return DY_OK;
	}
	/* 1: find or create every store entry, so that linking cannot fail halfway. */
	for (kv_entry *w = kv_first(&t->writes); w != NULL; w = kv_next(w)) {
		w->link = kv_upsert(&d->store, kv_ns(w), kv_key(w));
		if (w->link != NULL)
			continue;
		for (kv_entry *u = kv_first(&t->writes); u != w; u = kv_next(u))
			if (u->link->newest == NULL) /* created just now: nobody sees it */
				kv_remove(&d->store, u->link);
		tx_end(d, t); /* a failed COMMIT ends the transaction too */
		return out_of_memory("committing");
	}
	/* 2: link the pending versions in front, stamped with the new seq. */
	uint64_t seq = d->committed + 1;
	for (kv_entry *w = kv_first(&t->writes); w != NULL; w = kv_next(w)) {
		version *v = w->newest;
		w->newest = NULL;
		v->seq = seq;
		v->older = w->link->newest;
		w->link->newest = v;
	}
	d->committed = seq;
	/* 3: end the transaction and free what no open snapshot can see any more: the entries it
	 * wrote now (those on the dirty list are collect's), then the dirty list. */
	tx_unlink(d, t);
	uint64_t min = oldest_snapshot(d);
	for (kv_entry *w = kv_first(&t->writes); w != NULL; w = kv_next(w))
		if (!w->link->dirty)
			prune(d, w->link, min); /* may free w->link: each is reached once */
	kv_free(&t->writes);
	free(t);
	collect(d);
	return DY_OK;
}

static dy_status cin_rollback(void *dbp, void *txp) {
	tx_end(dbp, txp);
	return DY_OK;
}

/* ---- reads and writes -------------------------------------------------------------------- */

static dy_status cin_get(void *dbp, void *txp, dy_bytes ns, dy_bytes key, dy_bytes *value) {
	db *d = dbp;
	tx *t = txp;
	version *v = NULL;
	kv_entry *w = t->writable ? kv_find(&t->writes, ns, key) : NULL;
	if (w != NULL)
		v = w->newest;
	else
		v = visible(kv_find(&d->store, ns, key), t->snap);
	if (v == NULL || v->deleted)
		return DY_NOT_FOUND;
	*value = (dy_bytes){v->data, v->len};
	return DY_OK;
}

/* check_write refuses what the store never holds. */
static dy_status check_write(dy_bytes ns, dy_bytes key, size_t value_len) {
	if (ns.len == 0 || key.len == 0)
		return dy_fail(DY_INVALID_KEY, "cinmem: empty %s", ns.len == 0 ? "namespace" : "key");
	if (ns.len > MAX_NS)
		return dy_fail(DY_TOO_LARGE, "cinmem: namespace of %zu bytes exceeds %d", ns.len, MAX_NS);
	if (key.len > MAX_KEY)
		return dy_fail(DY_TOO_LARGE, "cinmem: key of %zu bytes exceeds %d", key.len, MAX_KEY);
	if (value_len > MAX_VALUE)
		return dy_fail(DY_TOO_LARGE, "cinmem: value of %zu bytes exceeds %zu", value_len, MAX_VALUE);
	return DY_OK;
}

/* pend records a pending version of (ns, key) in a write transaction. */
static dy_status pend(tx *t, dy_bytes ns, dy_bytes key, int deleted, dy_bytes value) {
	dy_status st = check_write(ns, key, deleted ? 0 : value.len);
	if (st != DY_OK)
		return st;
	version *v = version_new(0, deleted, value);
	if (v == NULL)
		return out_of_memory(deleted ? "deleting" : "putting");
	kv_entry *w = kv_upsert(&t->writes, ns, key);
	if (w == NULL) {
		free(v);
		return out_of_memory(deleted ? "deleting" : "putting");
	}
	version_free_chain(w->newest);
	w->newest = v;
	return DY_OK;
}

static dy_status cin_put(void *dbp, void *txp, dy_bytes ns, dy_bytes key, dy_bytes value) {
	(void)dbp;
	return pend(txp, ns, key, 0, value);
}

static dy_status cin_del(void *dbp, void *txp, dy_bytes ns, dy_bytes key) {
	(void)dbp;
	return pend(txp, ns, key, 1, (dy_bytes){NULL, 0});
}

/* ---- scans ------------------------------------------------------------------------------- */

static int has_prefix(dy_bytes key, dy_bytes prefix) {
	return key.len >= prefix.len && (prefix.len == 0 || memcmp(key.ptr, prefix.ptr, prefix.len) == 0);
}

/* scan_start is the first entry of m in the scan's range: after `after` if it is set and not
 * before the prefix, else at the prefix. */
static kv_entry *scan_start(const kv_map *m, const dy_scan *s) {
	if (s->after.len > 0 && bytes_cmp(s->after, s->prefix) >= 0) {
		kv_entry *e = kv_seek(m, s->ns, s->after);
		return e != NULL && kv_cmp(e, s->ns, s->after) == 0 ? kv_next(e) : e;
	}
	return kv_seek(m, s->ns, s->prefix);
}

static int in_range(const kv_entry *e, const dy_scan *s) {
	return e != NULL && bytes_cmp(kv_ns(e), s->ns) == 0 && has_prefix(kv_key(e), s->prefix);
}

/* cin_scan merges the store (at the snapshot) with the transaction's pending changes, which
 * win where both have a key. */
static dy_status cin_scan(void *dbp, void *txp, const dy_scan *s, dy_page *page) {
	db *d = dbp;
	tx *t = txp;
	kv_entry *b = scan_start(&d->store, s);
	kv_entry *w = t->writable ? scan_start(&t->writes, s) : NULL;
	for (;;) {
		int bin = in_range(b, s), win = in_range(w, s);
		if (!bin && !win)
			return DY_OK;
		int c = !bin ? 1 : !win ? -1 : bytes_cmp(kv_key(b), kv_key(w));
		kv_entry *src;
		version *v;
		if (c < 0) {
			src = b;
			v = visible(b, t->snap);
			b = kv_next(b);
		} else {
			src = w;
			v = w->newest;
			w = kv_next(w);
			if (c == 0)
				b = kv_next(b);
		}
		if (v == NULL || v->deleted)
			continue;
		if (!dy_page_add(page, kv_key(src), (dy_bytes){v->data, v->len}))
			return DY_OK;
	}
}

/* ---- the session ------------------------------------------------------------------------- */

static dy_status cin_open(dy_bytes dsn, dy_bytes options, dy_info *info, void **dbp) {
	(void)dsn; /* in memory: a data directory, if the host mounted one, is not used */
	(void)options;
	db *d = calloc(1, sizeof *d);
	if (d == NULL || !kv_init(&d->store)) {
		free(d);
		return out_of_memory("opening");
	}
	info->name = "cinmem";
	info->version = "1.0.0";
	info->flags = DY_CONCURRENT_READERS;
	*dbp = d;
	return DY_OK;
}

static dy_status cin_close(void *dbp) {
	db *d = dbp;
	for (tx *t = d->open, *next; t != NULL; t = next) { /* none: the runtime rolled them back */
		next = t->next;
		if (t->writable)
			kv_free(&t->writes);
		free(t);
	}
	kv_free(&d->store);
	free(d);
	return DY_OK;
}

const dy_driver dockyard_driver = {
    .open = cin_open,
    .begin = cin_begin,
    .get = cin_get,
    .put = cin_put,
    .del = cin_del,
    .scan = cin_scan,
    .commit = cin_commit,
    .rollback = cin_rollback,
    .ping = NULL,
    .close = cin_close,
};
