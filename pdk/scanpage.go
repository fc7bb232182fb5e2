package pdk

import (
	"fmt"
	"strings"

	"github.com/dockyard/dockyard/store"
)

// ScanPage implements store.Pager: one page of Scan, asked of the driver alone.
func (t *txn) ScanPage(ns, prefix, after string, limit int) ([]store.KeyValue, bool, error) {
	if limit <= 0 {
		return nil, false, fmt.Errorf("pdk: ScanPage limit %d: must be positive", limit)
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
