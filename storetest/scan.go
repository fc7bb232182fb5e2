package storetest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/dockyard/dockyard/store"
)

var scanCases = []Case{
	{"ScanIsInByteOrder", testScanOrder},
	{"ScanPrefixBoundaries", testScanPrefixes},
	{"ScanEmptyPrefixIsWholeNamespace", testScanWholeNamespace},
	{"ScanOfManyPages", testScanManyPages},
	{"NamespacesAreCataloged", testNamespaceCatalog},
}

// testNamespaceCatalog checks store.Namespaces lists every namespace a committed Put wrote
// to, in byte order, binary names included, and none that only a rolled-back Update or a
// Delete touched.
func testNamespaceCatalog(t T, h Harness) {
	ctx, s := open(t, h)
	names := func(what string) []string {
		t.Helper()
		var got []string
		err := s.View(ctx, func(tx store.Tx) (err error) {
			got, err = store.Namespaces(tx)
			return err
		})
		if err != nil {
			t.Fatalf("Namespaces %s: %v", what, err)
		}
		return got
	}
	if got := names("of a new store"); len(got) != 0 {
		t.Fatalf("Namespaces of a new store = %q, want none", got)
	}
	err := s.Update(ctx, func(tx store.Tx) error {
		for _, w := range []struct{ ns, key string }{{"b", "1"}, {"a\x00\xff", "1"}, {"b", "2"}} {
			if err := tx.Put(w.ns, w.key, []byte("v")); err != nil {
				return err
			}
		}
		return tx.Delete("c", "1")
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	errRollback := fmt.Errorf("roll back")
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.Put("rolled-back", "1", []byte("v")); err != nil {
			return err
		}
		return errRollback
	})
	wantErr(t, "Update that fails", err, errRollback)
	want := []string{"a\x00\xff", "b"}
	if got := names("after writes"); !slices.Equal(got, want) {
		t.Fatalf("Namespaces = %q, want %q (committed Puts only, in byte order)", got, want)
	}
	if h.Reopen != nil {
		s = reopen(t, h, ctx, s) // names reads the reopened store
		if got := names("after reopen"); !slices.Equal(got, want) {
			t.Fatalf("Namespaces after reopen = %q, want %q", got, want)
		}
	}
}

func testScanOrder(t T, h Harness) {
	ctx, s := open(t, h)
	r := rand.New(rand.NewPCG(1, 2))
	keys := map[string]bool{}
	for len(keys) < 300 {
		b := make([]byte, 1+r.IntN(6))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		keys[string(b)] = true
	}
	want := make([]string, 0, len(keys))
	for k := range keys {
		want = append(want, k)
	}
	r.Shuffle(len(want), func(i, j int) { want[i], want[j] = want[j], want[i] })
	err := s.Update(ctx, func(tx store.Tx) error {
		for _, k := range want {
			if err := tx.Put("ns", k, []byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	slices.Sort(want) // Go compares strings bytewise: the order the seam promises
	kvs := scan(t, ctx, s, "ns", "")
	if got := keysOf(kvs); !slices.Equal(got, want) {
		t.Fatalf("Scan of random binary keys is not in byte order:\n got %q\nwant %q", got, want)
	}
	for _, kv := range kvs {
		if !bytes.Equal(kv.Value, []byte(kv.Key)) {
			t.Fatalf("Scan value of %q = %q", kv.Key, kv.Value)
		}
	}
}

func testScanPrefixes(t T, h Harness) {
	ctx, s := open(t, h)
	keys := []string{
		"f", "fo", "foo", "foo/", "foo/a", "foo/a/b", "foo0", "foo\x00", "foo\x7f", "foo\x80",
		"foo\xff", "foo\xff\xff", "foo\xff\x00", "foo\xffa", "fop", "fop\x00", "fon\xff", "g",
		"a%b", "a_b", "axb", "a\\b", "a%", "a_", "a", "ab", "\xff", "\xff\xff", "\xff\x00",
	}
	err := s.Update(ctx, func(tx store.Tx) error {
		for _, k := range keys {
			if err := tx.Put("ns", k, []byte(k)); err != nil {
				return err
			}
		}
		// Same keys in a neighbouring namespace must never leak into a scan.
		return tx.Put("ns0", "foo/leak", []byte("x"))
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	prefixes := []string{
		"foo", "foo/", "foo0", "foo\xff", "foo\xff\xff", "fo", "fop", "fon", "f", "a%", "a_",
		"a\\", "a", "\xff", "\xff\xff", "\xff\xff\xff", "zzz", "foo/a/b", "foo/a/b/c",
	}
	for _, p := range prefixes {
		var want []string
		for _, k := range sorted {
			if strings.HasPrefix(k, p) {
				want = append(want, k)
			}
		}
		if got := keysOf(scan(t, ctx, s, "ns", p)); !slices.Equal(got, want) {
			t.Errorf("Scan(prefix %q) = %q, want %q", p, got, want)
		}
	}
}

func testScanWholeNamespace(t T, h Harness) {
	ctx, s := open(t, h)
	if kvs := scan(t, ctx, s, "ns", ""); len(kvs) != 0 {
		t.Fatalf("Scan of an empty namespace = %q, want none", keysOf(kvs))
	}
	want := []string{"\x00", "a", "b/c", "zz", "\xff"}
	for _, k := range want {
		put(t, ctx, s, "ns", k, []byte(k))
	}
	put(t, ctx, s, "other", "a", []byte("x"))
	if got := keysOf(scan(t, ctx, s, "ns", "")); !slices.Equal(got, want) {
		t.Fatalf("Scan(ns, \"\") = %q, want %q", got, want)
	}
}

// testScanOfManyPages scans thousands of keys, more than any driver's page, between two
// neighbouring prefixes that must be excluded.
func testScanManyPages(t T, h Harness) {
	ctx, s := open(t, h)
	const n = 5000
	err := s.Update(ctx, func(tx store.Tx) error {
		for i := 0; i < n; i++ {
			if err := tx.Put("ns", fmt.Sprintf("p/%05d", i), fmt.Appendf(nil, "value %d", i)); err != nil {
				return err
			}
		}
		for _, k := range []string{"p", "p.", "p0", "o/1", "q/1"} {
			if err := tx.Put("ns", k, []byte("outside")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update of %d keys: %v", n, err)
	}
	kvs := scan(t, ctx, s, "ns", "p/")
	if len(kvs) != n {
		t.Fatalf("Scan(p/) returned %d entries, want %d", len(kvs), n)
	}
	for i, kv := range kvs {
		if want := fmt.Sprintf("p/%05d", i); kv.Key != want || string(kv.Value) != fmt.Sprintf("value %d", i) {
			t.Fatalf("Scan entry %d = %q:%q, want %q", i, kv.Key, kv.Value, want)
		}
	}
	if all := scan(t, ctx, s, "ns", ""); len(all) != n+5 {
		t.Fatalf("Scan of the whole namespace returned %d entries, want %d", len(all), n+5)
	}
}
