package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/dockyard/dockyard/store"
)

// pagerTx is a Tx over a sorted slice that counts the pages asked of it and fails Scan, so
// that a walk reading the whole namespace at once would be caught.
type pagerTx struct {
	store.Tx
	kvs   []store.KeyValue
	pages int
	fail  error // returned by the page after the first, if set
}

func (p *pagerTx) Scan(string, string) ([]store.KeyValue, error) {
	return nil, errors.New("Scan called: the walk read the namespace whole")
}

func (p *pagerTx) ScanPage(ns, prefix, after string, limit int) ([]store.KeyValue, bool, error) {
	p.pages++
	if p.fail != nil && p.pages > 1 {
		return nil, false, p.fail
	}
	var page []store.KeyValue
	for _, kv := range p.kvs {
		if kv.Key > after && len(kv.Key) >= len(prefix) && kv.Key[:len(prefix)] == prefix {
			if len(page) == limit {
				return page, true, nil
			}
			page = append(page, kv)
		}
	}
	return page, false, nil
}

func keys(n int) []store.KeyValue {
	kvs := make([]store.KeyValue, n)
	for i := range kvs {
		kvs[i] = store.KeyValue{Key: fmt.Sprintf("k%05d", i), Value: []byte{byte(i)}}
	}
	return kvs
}

func TestIterate(t *testing.T) {
	const n = 1000
	tx := &pagerTx{kvs: keys(n)}
	i := 0
	for kv, err := range store.Iterate(tx, "ns", "k", "") {
		if err != nil {
			t.Fatal(err)
		}
		if kv.Key != fmt.Sprintf("k%05d", i) {
			t.Fatalf("entry %d: %q", i, kv.Key)
		}
		i++
	}
	if want := (n + store.IteratePageSize - 1) / store.IteratePageSize; i != n || tx.pages != want {
		t.Fatalf("%d entries in %d pages, want %d in %d", i, tx.pages, n, want)
	}

	// After a key, and stopping early: no page beyond the one holding the last entry taken.
	tx = &pagerTx{kvs: keys(n)}
	var got []string
	for kv, err := range store.Iterate(tx, "ns", "", "k00499") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, kv.Key)
		if len(got) == 3 {
			break
		}
	}
	if fmt.Sprint(got) != "[k00500 k00501 k00502]" || tx.pages != 1 {
		t.Fatalf("after k00499, 3 entries: %v in %d pages", got, tx.pages)
	}

	// A failing page ends the walk with its error, after the entries read before it.
	boom := errors.New("boom")
	tx = &pagerTx{kvs: keys(n), fail: boom}
	var last error
	i = 0
	for _, err := range store.Iterate(tx, "ns", "", "") {
		if err != nil {
			last = err
			continue
		}
		i++
	}
	if !errors.Is(last, boom) || i != store.IteratePageSize {
		t.Fatalf("walk with a failing second page: %d entries, last error %v", i, last)
	}
}

// TestIterateStore walks a real store, and a Tx after its callback returned.
func TestIterateStore(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, "inmem", "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Update(ctx, func(tx store.Tx) error {
		for _, kv := range keys(600) {
			if err := tx.Put("ns", kv.Key, kv.Value); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var kept store.Tx
	n := 0
	if err := s.View(ctx, func(tx store.Tx) error {
		kept = tx
		for _, err := range store.Iterate(tx, "ns", "k", "") {
			if err != nil {
				return err
			}
			n++
		}
		return nil
	}); err != nil || n != 600 {
		t.Fatalf("walk in a View: %d entries, %v", n, err)
	}
	var after []error
	for _, err := range store.Iterate(kept, "ns", "k", "") {
		after = append(after, err)
	}
	if len(after) != 1 || !errors.Is(after[0], store.ErrTxDone) {
		t.Fatalf("walk after the View yielded %v, want one store.ErrTxDone", after)
	}
}
