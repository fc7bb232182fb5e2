package store

import "iter"

// IteratePageSize is how many entries Iterate reads at a time.
const IteratePageSize = 256

// Iterate returns an iterator over the entries of ns whose keys have prefix and sort after
// after ("" for all), in byte order, for a range loop:
//
//	for kv, err := range store.Iterate(tx, "orders", "2026-", "") {
//		if err != nil {
//			return err
//		}
//		...
//	}
//
// It reads IteratePageSize entries at a time with ScanPage, so a namespace too large to hold
// is never held whole (on a Tx that is not a Pager, ScanPage falls back to Tx.Scan). It yields
// each entry with a nil error; a page that fails ends the loop with one last (zero KeyValue,
// error). Breaking out of the loop stops reading. Like every use of tx, the loop must run inside
// the transaction's callback: once the callback has returned, the next page fails with
// ErrTxDone. Inside an Update, the walk sees the Update's own writes, as Scan does, up to the
// page being read: a key put behind the walk's position is not seen, one put ahead of it is.
func Iterate(tx Tx, ns, prefix, after string) iter.Seq2[KeyValue, error] {
	return func(yield func(KeyValue, error) bool) {
		for {
			page, more, err := ScanPage(tx, ns, prefix, after, IteratePageSize)
			if err != nil {
				yield(KeyValue{}, err)
				return
			}
			for _, kv := range page {
				if !yield(kv, nil) {
					return
				}
			}
			if !more || len(page) == 0 {
				return
			}
			after = page[len(page)-1].Key
		}
	}
}
