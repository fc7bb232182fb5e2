package storetest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dockyard/dockyard/store"
)

var concurrencyCases = []Case{
	{"ViewSnapshotIsStableDuringUpdate", testSnapshot},
	{"NoLostUpdate", testNoLostUpdate},
	{"StoresAreIndependent", testIndependentStores},
}

func u64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func b64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// testSnapshot reads inside a View, lets another goroutine commit an Update, and reads again:
// the View must see exactly what it saw first. A driver without concurrent readers makes the
// Update wait for the View; the View then gives it a bounded chance to run.
func testSnapshot(t T, h Harness) {
	ctx, s := open(t, h)
	put(t, ctx, s, "ns", "k", []byte("v1"))
	put(t, ctx, s, "ns", "j", []byte("j1"))
	updated := make(chan error, 1)
	err := s.View(ctx, func(tx store.Tx) error {
		first, err := tx.Get("ns", "k")
		if err != nil {
			return err
		}
		go func() {
			updated <- s.Update(ctx, func(tx store.Tx) error {
				if err := tx.Put("ns", "k", []byte("v2")); err != nil {
					return err
				}
				if err := tx.Put("ns", "new", []byte("n")); err != nil {
					return err
				}
				return tx.Delete("ns", "j")
			})
		}()
		select {
		case err := <-updated:
			if err != nil {
				return fmt.Errorf("concurrent Update: %w", err)
			}
			updated <- nil
		case <-time.After(300 * time.Millisecond):
		}
		again, err := tx.Get("ns", "k")
		if err != nil {
			return err
		}
		if string(first) != "v1" || string(again) != "v1" {
			return fmt.Errorf("a View read %q then %q across a concurrent Update, want v1 both times", first, again)
		}
		if _, err := tx.Get("ns", "new"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("a View sees a key committed after it began: %v", err)
		}
		kvs, err := tx.Scan("ns", "")
		if err != nil {
			return err
		}
		if got := keysOf(kvs); len(got) != 2 || got[0] != "j" || got[1] != "k" || string(kvs[1].Value) != "v1" {
			return fmt.Errorf("a Scan in View after a concurrent Update = %q, want the snapshot [j k]", got)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	if err := <-updated; err != nil {
		t.Fatalf("concurrent Update: %v", err)
	}
	wantValue(t, ctx, s, "ns", "k", []byte("v2"))
	wantAbsent(t, ctx, s, "ns", "j")
}

func testNoLostUpdate(t T, h Harness) {
	ctx, s := open(t, h)
	const workers, each = 16, 25
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				err := s.Update(ctx, func(tx store.Tx) error {
					v, err := tx.Get("ns", "counter")
					if err != nil && !errors.Is(err, store.ErrNotFound) {
						return err
					}
					return tx.Put("ns", "counter", b64(u64(v)+1))
				})
				if err != nil {
					t.Errorf("increment: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	v, _ := get(t, ctx, s, "ns", "counter")
	if got := u64(v); got != workers*each {
		t.Fatalf("counter = %d after %d increments: updates were lost", got, workers*each)
	}
}

func testIndependentStores(t T, h Harness) {
	ctx, a := open(t, h)
	_, b := open(t, h)
	put(t, ctx, a, "ns", "k", []byte("in a"))
	wantAbsent(t, ctx, b, "ns", "k")
	put(t, ctx, b, "ns", "k", []byte("in b"))
	wantValue(t, ctx, a, "ns", "k", []byte("in a"))
	wantValue(t, ctx, b, "ns", "k", []byte("in b"))
}
