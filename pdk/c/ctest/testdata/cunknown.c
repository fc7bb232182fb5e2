/*
 * cunknown.c: a C driver whose every COMMIT cannot know whether it committed, as a driver whose
 * backend went away during the commit: it returns DY_COMMIT_UNKNOWN (ABI 1.1). It stores
 * nothing: GET finds nothing, SCAN pages are empty, every other callback succeeds. For the
 * tests of the status's mapping both ways (commitunknown_test.go).
 */
#include "dockyard.h"

static int db_token, tx_token;

static dy_status cu_open(dy_bytes dsn, dy_bytes options, dy_info *info, void **db) {
	(void)dsn;
	(void)options;
	info->name = "cunknown";
	info->version = "1";
	*db = &db_token;
	return DY_OK;
}

static dy_status cu_begin(void *db, int writable, void **tx) {
	(void)db;
	(void)writable;
	*tx = &tx_token;
	return DY_OK;
}

static dy_status cu_get(void *db, void *tx, dy_bytes ns, dy_bytes key, dy_bytes *value) {
	(void)db;
	(void)tx;
	(void)ns;
	(void)key;
	(void)value;
	return DY_NOT_FOUND;
}

static dy_status cu_put(void *db, void *tx, dy_bytes ns, dy_bytes key, dy_bytes value) {
	(void)db;
	(void)tx;
	(void)ns;
	(void)key;
	(void)value;
	return DY_OK;
}

static dy_status cu_del(void *db, void *tx, dy_bytes ns, dy_bytes key) {
	(void)db;
	(void)tx;
	(void)ns;
	(void)key;
	return DY_OK;
}

static dy_status cu_scan(void *db, void *tx, const dy_scan *scan, dy_page *page) {
	(void)db;
	(void)tx;
	(void)scan;
	(void)page;
	return DY_OK;
}

static dy_status cu_commit(void *db, void *tx) {
	(void)db;
	(void)tx;
	return dy_fail(DY_COMMIT_UNKNOWN, "cunknown: the backend went away during COMMIT, whether it committed is unknown");
}

static dy_status cu_end(void *db, void *tx) {
	(void)db;
	(void)tx;
	return DY_OK;
}

static dy_status cu_close(void *db) {
	(void)db;
	return DY_OK;
}

const dy_driver dockyard_driver = {
    .open = cu_open,
    .begin = cu_begin,
    .get = cu_get,
    .put = cu_put,
    .del = cu_del,
    .scan = cu_scan,
    .commit = cu_commit,
    .rollback = cu_end,
    .close = cu_close,
};
