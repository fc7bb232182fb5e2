package store

import "fmt"

// Pager is implemented by a Tx that can return one page of a scan without reading the rest:
// the Tx of every store built on the driver kit (package pdk) does, asking its driver for that
// page alone. A Tx that wraps another (for metrics, logging) should implement it by calling
// ScanPage on the Tx it wraps, or a paged walk through it reads the whole prefix once a page.
type Pager interface {
	// ScanPage is the method form of the function ScanPage, which checks limit first.
	ScanPage(ns, prefix, after string, limit int) (page []KeyValue, more bool, err error)
}

// ScanPage returns at most limit entries of ns whose keys have prefix and sort after after,
// in byte order, and whether more may follow: the paged form of Tx.Scan, for walking a
// namespace too large to hold at once. Start with after = "" and call it again with after set
// to the last key returned, until more is false. On a Tx that implements Pager it reads that
// page alone; on any other Tx it falls back to Tx.Scan and slices the result. limit must be
// positive.
func ScanPage(tx Tx, ns, prefix, after string, limit int) ([]KeyValue, bool, error) {
	if limit <= 0 {
		return nil, false, fmt.Errorf("store: ScanPage limit %d: must be positive", limit)
	}
	if p, ok := tx.(Pager); ok {
		return p.ScanPage(ns, prefix, after, limit)
	}
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
