package storetest

import (
	"bytes"
	"errors"
	"slices"
	"strings"

	"github.com/dockyard/dockyard/store"
)

var keyCases = []Case{
	{"NotFoundVersusEmptyValue", testNotFoundVsEmpty},
	{"InvalidKeys", testInvalidKeys},
	{"SizeLimitsOfKeysAndNamespaces", testKeyLimits},
	{"NamespacesAreIsolated", testNamespaces},
	{"BinaryKeysAndNamespaces", testBinaryKeys},
	{"CallerOwnsSlices", testCallerOwnsSlices},
	{"OverwriteAndDelete", testOverwriteDelete},
}

// oddKeys are keys that break backends which treat keys as text, patterns or paths.
var oddKeys = []string{
	"%", "_", "a%", "a_", `\`, `a\b`, "/", "a/b", "..", "../x", `"`, "'", "`", "';--",
	"\x00", "a\x00", "a\x00b", "\x00\x00", "\xff", "a\xff", "\xff\xff", "\x80", "\xc3\x28",
	"\xfe\xff", "é", "e\u0301", "日本", "🙂", " ", "a b", "\n", "\t", "*", "?", "[a]", "A", "a",
}

func testNotFoundVsEmpty(t T, h Harness) {
	ctx, s := open(t, h)
	wantAbsent(t, ctx, s, "ns", "absent")
	put(t, ctx, s, "ns", "empty", []byte{})
	put(t, ctx, s, "ns", "nil", nil)
	for _, k := range []string{"empty", "nil"} {
		v, found := get(t, ctx, s, "ns", k)
		if !found {
			t.Fatalf("Get(%q) of an empty value: ErrNotFound; an empty value is present", k)
		}
		if len(v) != 0 {
			t.Fatalf("Get(%q) = %q, want empty", k, v)
		}
	}
	kvs := scan(t, ctx, s, "ns", "")
	if got := keysOf(kvs); !slices.Equal(got, []string{"empty", "nil"}) {
		t.Fatalf("Scan of empty values = %q, want [empty nil]", got)
	}
	err := s.View(ctx, func(tx store.Tx) error {
		_, err := tx.Get("ns", "absent")
		return err
	})
	wantErr(t, "View returning Get's error for an absent key", err, store.ErrNotFound)
}

func testInvalidKeys(t T, h Harness) {
	ctx, s := open(t, h)
	err := s.Update(ctx, func(tx store.Tx) error {
		for _, c := range []struct{ ns, key string }{{"", "k"}, {"ns", ""}, {"", ""}} {
			_, err := tx.Get(c.ns, c.key)
			wantErr(t, "Get("+c.ns+","+c.key+")", err, store.ErrInvalidKey)
			wantErr(t, "Put with an empty namespace or key", tx.Put(c.ns, c.key, []byte("v")), store.ErrInvalidKey)
			wantErr(t, "Delete with an empty namespace or key", tx.Delete(c.ns, c.key), store.ErrInvalidKey)
		}
		_, err := tx.Scan("", "")
		wantErr(t, "Scan with an empty namespace", err, store.ErrInvalidKey)
		return nil
	})
	if err != nil {
		t.Fatalf("Update after rejected keys: %v (a rejected key must not fail the transaction)", err)
	}
}

func testKeyLimits(t T, h Harness) {
	ctx, s := open(t, h)
	maxKey := strings.Repeat("k", store.MaxKeySize)
	maxNS := strings.Repeat("n", store.MaxNamespaceSize)
	put(t, ctx, s, "ns", maxKey, []byte("max key"))
	put(t, ctx, s, maxNS, "k", []byte("max ns"))
	wantValue(t, ctx, s, "ns", maxKey, []byte("max key"))
	wantValue(t, ctx, s, maxNS, "k", []byte("max ns"))
	if got := keysOf(scan(t, ctx, s, "ns", maxKey)); !slices.Equal(got, []string{maxKey}) {
		t.Fatalf("Scan with a prefix of MaxKeySize: %d keys, want 1", len(got))
	}

	err := s.Update(ctx, func(tx store.Tx) error {
		wantErr(t, "Put of a key of MaxKeySize+1", tx.Put("ns", maxKey+"k", []byte("v")), store.ErrTooLarge)
		wantErr(t, "Put in a namespace of MaxNamespaceSize+1", tx.Put(maxNS+"n", "k", []byte("v")), store.ErrTooLarge)
		_, err := tx.Get("ns", maxKey+"k")
		wantErr(t, "Get of a key of MaxKeySize+1", err, store.ErrTooLarge)
		_, err = tx.Scan("ns", maxKey+"k")
		wantErr(t, "Scan with a prefix of MaxKeySize+1", err, store.ErrTooLarge)
		_, err = tx.Scan(maxNS+"n", "")
		wantErr(t, "Scan of a namespace of MaxNamespaceSize+1", err, store.ErrTooLarge)
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if got := keysOf(scan(t, ctx, s, "ns", "")); !slices.Equal(got, []string{maxKey}) {
		t.Fatalf("after rejected oversize writes the namespace holds %d keys, want 1", len(got))
	}
}

func testNamespaces(t T, h Harness) {
	ctx, s := open(t, h)
	put(t, ctx, s, "a", "k", []byte("in a"))
	put(t, ctx, s, "ab", "k", []byte("in ab"))
	put(t, ctx, s, "a", "bk", []byte("a/bk"))
	put(t, ctx, s, "b", "k", []byte("in b"))
	wantValue(t, ctx, s, "a", "k", []byte("in a"))
	wantValue(t, ctx, s, "ab", "k", []byte("in ab"))
	if got := keysOf(scan(t, ctx, s, "a", "")); !slices.Equal(got, []string{"bk", "k"}) {
		t.Fatalf("Scan(a) = %q, want [bk k]: namespace a must not include ab", got)
	}
	if got := keysOf(scan(t, ctx, s, "ab", "")); !slices.Equal(got, []string{"k"}) {
		t.Fatalf("Scan(ab) = %q, want [k]", got)
	}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.Delete("a", "k") }); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantAbsent(t, ctx, s, "a", "k")
	wantValue(t, ctx, s, "ab", "k", []byte("in ab"))
	wantValue(t, ctx, s, "b", "k", []byte("in b"))
	wantAbsent(t, ctx, s, "c", "k")
}

func testBinaryKeys(t T, h Harness) {
	ctx, s := open(t, h)
	err := s.Update(ctx, func(tx store.Tx) error {
		for _, k := range oddKeys {
			if err := tx.Put("ns", k, []byte("v:"+k)); err != nil {
				return err
			}
			if err := tx.Put(k, "key", []byte("ns:"+k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update with odd keys: %v", err)
	}
	for _, k := range oddKeys {
		wantValue(t, ctx, s, "ns", k, []byte("v:"+k))
		wantValue(t, ctx, s, k, "key", []byte("ns:"+k))
	}
	want := slices.Clone(oddKeys)
	slices.Sort(want)
	kvs := scan(t, ctx, s, "ns", "")
	if got := keysOf(kvs); !slices.Equal(got, want) {
		t.Fatalf("Scan of odd keys in byte order:\n got %q\nwant %q", got, want)
	}
	for _, kv := range kvs {
		if !bytes.Equal(kv.Value, []byte("v:"+kv.Key)) {
			t.Fatalf("Scan value of %q = %q", kv.Key, kv.Value)
		}
	}
	for _, k := range oddKeys {
		kvs := scan(t, ctx, s, k, "")
		if len(kvs) != 1 || kvs[0].Key != "key" {
			t.Fatalf("Scan of namespace %q = %q, want exactly [key]", k, keysOf(kvs))
		}
	}
}

func testCallerOwnsSlices(t T, h Harness) {
	ctx, s := open(t, h)
	buf := []byte("original")
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.Put("ns", "k", buf); err != nil {
			return err
		}
		copy(buf, "CHANGED!") // Put copied its input: the stored value must not change
		v, err := tx.Get("ns", "k")
		if err != nil {
			return err
		}
		if string(v) != "original" {
			t.Errorf("inside Update after changing Put's input: Get = %q, want original", v)
		}
		copy(v, "XXXXXXXX") // the returned slice is the caller's
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	wantValue(t, ctx, s, "ns", "k", []byte("original"))
	err = s.View(ctx, func(tx store.Tx) error {
		v, err := tx.Get("ns", "k")
		if err != nil {
			return err
		}
		copy(v, "YYYYYYYY")
		kvs, err := tx.Scan("ns", "")
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			copy(kv.Value, "ZZZZZZZZ")
		}
		v2, err := tx.Get("ns", "k")
		if err != nil {
			return err
		}
		if string(v2) != "original" {
			return errors.New("changing a slice returned by Get or Scan changed the stored value: " + string(v2))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	wantValue(t, ctx, s, "ns", "k", []byte("original"))
}

func testOverwriteDelete(t T, h Harness) {
	ctx, s := open(t, h)
	put(t, ctx, s, "ns", "k", []byte("one"))
	put(t, ctx, s, "ns", "k", []byte("two, longer"))
	wantValue(t, ctx, s, "ns", "k", []byte("two, longer"))
	put(t, ctx, s, "ns", "k", []byte("3"))
	wantValue(t, ctx, s, "ns", "k", []byte("3"))
	for i := 0; i < 2; i++ { // the second Delete is of an absent key: a no-op
		if err := s.Update(ctx, func(tx store.Tx) error { return tx.Delete("ns", "k") }); err != nil {
			t.Fatalf("Delete #%d: %v", i+1, err)
		}
		wantAbsent(t, ctx, s, "ns", "k")
	}
	if n := len(scan(t, ctx, s, "ns", "")); n != 0 {
		t.Fatalf("Scan after Delete: %d entries, want 0", n)
	}
}
