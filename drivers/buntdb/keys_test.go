package buntdb

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	bunt "github.com/tidwall/buntdb"
)

type pair struct{ ns, key string }

func comparePairs(a, b pair) int {
	if c := strings.Compare(a.ns, b.ns); c != 0 {
		return c
	}
	return strings.Compare(a.key, b.key)
}

// adversarial are (ns, key) pairs chosen to break naive encodings: namespaces that are prefixes
// of each other, contain the escape and terminator bytes, or end in them; keys that look like
// encoded suffixes.
var adversarial = []pair{
	{"a", "b"}, {"ab", ""}, {"ab", "\x00"}, {"a", "\x00\x01"}, {"a", "\xff"},
	{"a\x00", "a"}, {"a\x00", "\x00"}, {"a\x00\x01", "x"}, {"a\x00\xff", "x"}, {"a\x01", "x"},
	{"a\xff", "x"}, {"\x00", "k"}, {"\x00\x00", "k"}, {"\x00\x01", "k"}, {"\x00\x02", "k"},
	{"\x00\xff", "k"}, {"\x01", "k"}, {"\xff", "k"}, {"\xff\xff", "\xff"}, {"a", "a\x00\x01b"},
	{"a\x00\x01b", ""}, {"a", "\x00\xff"}, {"a\x00", ""}, {"\x00dockyard/migrations", "0001"},
	{"b", "a"}, {"ns", "k"}, {"ns", "k\x00"}, {"ns", "k\x00\x00"}, {"ns\x00", "k"}, {"n", "sk"},
}

func TestKeyOrderMatchesPairOrder(t *testing.T) {
	for i, a := range adversarial {
		for j, b := range adversarial {
			ea, eb := encodeKey(a.ns, a.key), encodeKey(b.ns, b.key)
			if got, want := cmp.Compare(ea, eb), comparePairs(a, b); got != want {
				t.Errorf("pairs %d %q and %d %q: encoded keys compare %d, pairs compare %d (%q vs %q)", i, a, j, b, got, want, ea, eb)
			}
		}
	}
}

func TestKeyEncodingRoundTrips(t *testing.T) {
	for _, p := range adversarial {
		k := encodeKey(p.ns, p.key)
		ns, key, ok := decodeKey(k)
		if !ok || ns != p.ns || key != p.key {
			t.Errorf("decodeKey(encodeKey(%q, %q)) = %q, %q, %v", p.ns, p.key, ns, key, ok)
		}
		if isMeta(k) {
			t.Errorf("encodeKey(%q, %q) = %q is a meta key", p.ns, p.key, k)
		}
		if !strings.HasPrefix(k, nsPrefix(p.ns)) {
			t.Errorf("encodeKey(%q, %q) does not start with nsPrefix", p.ns, p.key)
		}
	}
	for _, k := range []string{formatKey, commitKey, "", "\x00", "ab", "a\x00", "a\x00\x03"} {
		if _, _, ok := decodeKey(k); ok {
			t.Errorf("decodeKey(%q) succeeded", k)
		}
	}
}

// randomPair draws from a tiny alphabet rich in the bytes that matter, so collisions of
// prefixes are frequent.
func randomPair(r *rand.Rand) pair {
	alphabet := []byte{0x00, 0x01, 0x02, 'a', 0xfe, 0xff}
	s := func(minLen int) string {
		b := make([]byte, minLen+r.IntN(5))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	return pair{s(1), s(0)}
}

func TestKeyOrderRandomized(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		a, b := randomPair(r), randomPair(r)
		if got, want := cmp.Compare(encodeKey(a.ns, a.key), encodeKey(b.ns, b.key)), comparePairs(a, b); got != want {
			t.Fatalf("pairs %q and %q: encoded keys compare %d, pairs compare %d", a, b, got, want)
		}
	}
}

// TestScanRangeIsContiguous checks, for random pairs, that the encoded keys of one namespace
// with one key prefix are exactly the encoded keys that start with nsPrefix(ns)+prefix.
func TestScanRangeIsContiguous(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		a, b := randomPair(r), randomPair(r)
		prefix := b.key[:r.IntN(len(b.key)+1)]
		in := a.ns == b.ns && strings.HasPrefix(a.key, prefix)
		if got := strings.HasPrefix(encodeKey(a.ns, a.key), nsPrefix(b.ns)+prefix); got != in {
			t.Fatalf("pair %q against ns %q prefix %q: in encoded range %v, want %v", a, b.ns, prefix, got, in)
		}
	}
}

// TestBuntdbOrdersKeysByBytes checks the assumption the encoding rests on: buntdb's key tree
// ascends in plain byte order, 0x00 and 0xff included, and AscendGreaterOrEqual starts at the
// pivot.
func TestBuntdbOrdersKeysByBytes(t *testing.T) {
	db, err := bunt.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := rand.New(rand.NewPCG(5, 6))
	var keys []string
	seen := map[string]bool{}
	for range 2000 {
		p := randomPair(r)
		k := p.ns + p.key
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	err = db.Update(func(tx *bunt.Tx) error {
		for _, k := range keys {
			if _, _, err := tx.Set(k, k, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	var got []string
	_ = db.View(func(tx *bunt.Tx) error {
		return tx.Ascend("", func(k, v string) bool { got = append(got, k); return true })
	})
	if !slices.Equal(got, keys) {
		t.Fatalf("buntdb's Ascend order differs from byte order")
	}
	pivot := keys[len(keys)/2] + "\x00"
	var first string
	_ = db.View(func(tx *bunt.Tx) error {
		return tx.AscendGreaterOrEqual("", pivot, func(k, v string) bool { first = k; return false })
	})
	if want := keys[len(keys)/2+1]; first != want {
		t.Fatalf("AscendGreaterOrEqual(%q) started at %q, want %q", pivot, first, want)
	}
}
