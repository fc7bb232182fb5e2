package pdk

import (
	"fmt"
	"strings"

	"github.com/dockyard/dockyard/store"
)

// ScanPage returns at most limit entries of ns whose keys have prefix and sort after after,
// in byte order, and whether more may follow: the paged form of Tx.Scan, for tools that walk
// a namespace too large to hold at once (the dockyard CLI's scan and copy). Call it again with
// after set to the last key returned. On a Tx of a store made by NewStore it asks the driver
// for that page alone; on any other Tx it falls back to Tx.Scan and slices the result.
// limit must be positive.
func ScanPage(tx store.Tx, ns, prefix, after string, limit int) ([]store.KeyValue, bool, error) {
	if limit <= 0 {
		return nil, false, fmt.Errorf("pdk: ScanPage limit %d: must be positive", limit)
	}
	t, ok := tx.(*txn)
	if !ok {
		kvs, err := tx.Scan(ns, prefix)
		if err != nil {
			return nil, false, err
		}
		i := 0
		for i < len(kvs) && kvs[i].Key <= after {
			i++
		}
		kvs = kvs[i:]
		if len(kvs) > limit {
			return kvs[:limit], true, nil
		}
		return kvs, false, nil
	}
	return t.scanPage(ns, prefix, after, limit)
}

// scanPage is one driver page of Scan, checked as Scan checks its pages.
func (t *txn) scanPage(ns, prefix, after string, limit int) ([]store.KeyValue, bool, error) {
	if err := t.usable(); err != nil {
		return nil, false, err
	}
	if err := t.a.checkNS(ns); err != nil {
		return nil, false, err
	}
	if len(prefix) > t.a.maxKey {
		return nil, false, fmt.Errorf("%w: prefix of %d bytes (max %d)", store.ErrTooLarge, len(prefix), t.a.maxKey)
	}
	if len(after) > t.a.maxKey {
		return nil, false, fmt.Errorf("%w: cursor of %d bytes (max %d)", store.ErrTooLarge, len(after), t.a.maxKey)
	}
	limit = min(limit, t.a.pageSize)
	page, more, err := t.dtx.Scan(t.ctx, ns, prefix, after, limit)
	if err != nil {
		return nil, false, t.driverErr(err)
	}
	if len(page) > limit {
		return nil, false, t.driverErr(fmt.Errorf("%s: scan returned %d entries, more than the %d asked for", t.a.info.Name, len(page), limit))
	}
	last := after
	for i := range page {
		k := page[i].Key
		if k <= last || !strings.HasPrefix(k, prefix) {
			return nil, false, t.driverErr(fmt.Errorf("%s: scan returned key %q out of order or outside prefix %q (after %q)", t.a.info.Name, k, prefix, last))
		}
		if page[i].Value == nil {
			page[i].Value = []byte{}
		}
		last = k
	}
	if more && len(page) == 0 {
		return nil, false, t.driverErr(fmt.Errorf("%s: scan returned an empty page that claims more entries follow", t.a.info.Name))
	}
	return page, more, nil
}
