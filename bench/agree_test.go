package bench

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/store"
)

// TestImplementationsAgree drives every implementation through the functions the benchmarks
// time — the same loads, single Puts, 100-Put transactions, Gets and Scans — and checks that
// each returns exactly what a plain map model says, so the baselines are proven to do the same
// work as the drivers (and none is fast by being wrong).
func TestImplementationsAgree(t *testing.T) {
	ctx := context.Background()
	l := layout{groups: 4, perGroup: 150}

	// The model, and the writes applied to it and to every implementation.
	model := map[string][]byte{}
	for i := range l.n() {
		model[l.key(i)] = initialValue(i)
	}
	single := map[string][]byte{
		l.key(7):         initialValue(9001),
		l.key(l.n() - 1): initialValue(9002),
		"g01/new":        initialValue(9003), // a key that did not exist
	}
	batch := randomKeys(l, 100) // with repeats, like the benchmark's
	batchValue := initialValue(9004)
	for k, v := range single {
		model[k] = v
	}
	for _, k := range batch {
		model[k] = batchValue
	}
	prefixes := []string{"g", "g00/", "g01/", "g03/", "g01/00015", "h"}

	for _, name := range implNames {
		t.Run(name, func(t *testing.T) {
			im := openLoaded(t, name, l)
			for k, v := range single {
				if err := im.put(ctx, k, v); err != nil {
					t.Fatalf("put %q: %v", k, err)
				}
			}
			if err := im.putMany(ctx, batch, batchValue); err != nil {
				t.Fatalf("put 100: %v", err)
			}
			for k, want := range model {
				got, err := im.get(ctx, k)
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("get %q = %q, %v; want %q", k, got, err, want)
				}
			}
			if got, err := im.get(ctx, "g01/absent"); err == nil {
				t.Fatalf("get of an absent key = %q, nil error", got)
			}
			for _, p := range prefixes {
				got, err := im.scan(ctx, p)
				if err != nil {
					t.Fatalf("scan %q: %v", p, err)
				}
				if want := modelScan(model, p); !sameKVs(got, want) {
					t.Fatalf("scan %q: %d entries, want %d\ngot:  %s\nwant: %s", p, len(got), len(want), head(got), head(want))
				}
			}
		})
	}

	// The modernc baseline reads a file written by the sqlite driver and finds the same data:
	// it uses the driver's schema and key encoding, not merely a similar one.
	t.Run("modernc-reads-sqlite-file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "driver.db")
		s, err := store.Open(ctx, "sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		if err := (&storeImpl{s: s}).load(ctx, l); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		im, err := openModernc(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = im.close() }()
		initial := map[string][]byte{}
		for i := range l.n() {
			initial[l.key(i)] = initialValue(i)
		}
		for _, p := range prefixes {
			got, err := im.scan(ctx, p)
			if err != nil {
				t.Fatalf("scan %q: %v", p, err)
			}
			if want := modelScan(initial, p); !sameKVs(got, want) {
				t.Fatalf("scan %q: %d entries, want %d", p, len(got), len(want))
			}
		}
	})
}

// modelScan is Tx.Scan over a map.
func modelScan(m map[string][]byte, prefix string) []store.KeyValue {
	var kvs []store.KeyValue
	for k, v := range m {
		if strings.HasPrefix(k, prefix) {
			kvs = append(kvs, store.KeyValue{Key: k, Value: v})
		}
	}
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].Key < kvs[j].Key })
	return kvs
}

// sameKVs compares two scan results, treating nil and empty alike.
func sameKVs(a, b []store.KeyValue) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

// head renders the first few keys of a scan result, for failure messages.
func head(kvs []store.KeyValue) string {
	var b strings.Builder
	for i, kv := range kvs {
		if i == 5 {
			b.WriteString(" ...")
			break
		}
		fmt.Fprintf(&b, "%q ", kv.Key)
	}
	return b.String()
}
