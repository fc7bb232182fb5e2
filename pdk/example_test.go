package pdk_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

// mapDriver is a whole driver: a map under a mutex. It declares no concurrent readers, so the
// adapter never opens a transaction beside a writable one, and a writable transaction can
// work on a copy of the map that its Commit puts in place. Every rule of the seam (rollback on
// error, ErrReadOnly, ErrTxDone, limits, paging) is the adapter's, none of it is here.
type mapDriver struct {
	mu   sync.Mutex
	data map[[2]string][]byte // {namespace, key} -> value
}

type mapTxn struct {
	d    *mapDriver
	data map[[2]string][]byte // the committed map, or a writable transaction's copy
}

func (d *mapDriver) Info() pdk.Info { return pdk.Info{Name: "map", Version: "0.1.0"} }

func (d *mapDriver) Begin(_ context.Context, writable bool) (pdk.Txn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if writable {
		return &mapTxn{d: d, data: maps.Clone(d.data)}, nil
	}
	return &mapTxn{d: d, data: d.data}, nil
}

func (d *mapDriver) Ping(context.Context) error { return nil }
func (d *mapDriver) Close() error               { return nil }

func (t *mapTxn) Get(_ context.Context, ns, key string) ([]byte, error) {
	v, ok := t.data[[2]string{ns, key}]
	if !ok {
		return nil, store.ErrNotFound
	}
	return slices.Clone(v), nil // the caller's to keep
}

func (t *mapTxn) Put(_ context.Context, ns, key string, value []byte) error {
	t.data[[2]string{ns, key}] = slices.Clone(value) // the caller may reuse value
	return nil
}

func (t *mapTxn) Delete(_ context.Context, ns, key string) error {
	delete(t.data, [2]string{ns, key})
	return nil
}

// Scan sorts the matching keys on every page: fine for a toy, not for a store of any size.
func (t *mapTxn) Scan(_ context.Context, ns, prefix, after string, limit int) ([]store.KeyValue, bool, error) {
	var page []store.KeyValue
	for k, v := range t.data {
		if k[0] == ns && strings.HasPrefix(k[1], prefix) && k[1] > after {
			page = append(page, store.KeyValue{Key: k[1], Value: slices.Clone(v)})
		}
	}
	slices.SortFunc(page, func(a, b store.KeyValue) int { return strings.Compare(a.Key, b.Key) })
	if len(page) > limit {
		return page[:limit], true, nil
	}
	return page, false, nil
}

func (t *mapTxn) Commit(context.Context) error {
	t.d.mu.Lock()
	defer t.d.mu.Unlock()
	t.d.data = t.data
	return nil
}

func (t *mapTxn) Rollback() error { return nil }

// Example writes a driver (mapDriver, above) and uses it as any store: pdk.NewStore is the
// one adapter between the primitives a driver provides and store.Store.
func Example() {
	var s store.Store = pdk.NewStore(&mapDriver{data: map[[2]string][]byte{}})
	defer s.Close()
	ctx := context.Background()

	err := s.Update(ctx, func(tx store.Tx) error {
		for _, k := range []string{"b", "a", "c"} {
			if err := tx.Put("letters", k, []byte(strings.ToUpper(k))); err != nil {
				return err
			}
		}
		return tx.Delete("letters", "c")
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = s.View(ctx, func(tx store.Tx) error {
		all, err := tx.Scan("letters", "")
		if err != nil {
			return err
		}
		for _, kv := range all {
			fmt.Printf("%s=%s\n", kv.Key, kv.Value)
		}
		_, err = tx.Get("letters", "c")
		fmt.Println("c:", err)
		fmt.Println("put in a View:", tx.Put("letters", "d", nil)) // the adapter's rule, not the driver's
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// a=A
	// b=B
	// c: store: key not found
	// put in a View: store: write attempted on a read-only transaction
}

// TestExampleDriverConforms runs the conformance suite on the Example's driver: its few dozen
// lines are a conforming driver, not only a demonstration.
func TestExampleDriverConforms(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open: func(context.Context, storetest.T) (store.Store, error) {
			return pdk.NewStore(&mapDriver{data: map[[2]string][]byte{}}), nil
		},
		Caps: storetest.Capabilities{}, // not durable; readers wait for the writer
	})
}
