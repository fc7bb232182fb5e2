package postgres_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/drivers/postgres"
	"github.com/dockyard/dockyard/internal/pgtest"
	"github.com/dockyard/dockyard/store"
)

// execModes are pgx's query execution modes, which a DSN may choose
// (default_query_exec_mode); "" is pgx's default, cache_statement. simple_protocol is what
// connection poolers in transaction mode need.
var execModes = []string{"", "cache_describe", "describe_exec", "exec", "simple_protocol"}

// modeDSN is a fresh schema's DSN with the given exec mode.
func modeDSN(t *testing.T, mode string) string {
	t.Helper()
	dsn := pgtest.DSN(t)
	if mode == "" {
		return dsn
	}
	dsn, err := pgtest.WithParam(dsn, "default_query_exec_mode", mode)
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

// TestByteOrder checks keys and namespaces holding LIKE wildcards, backslashes, NUL and 0xff
// bytes and invalid UTF-8 are stored exactly, scan in byte order, and that prefixes match
// bytes, not patterns, in every exec mode.
func TestByteOrder(t *testing.T) {
	keys := []string{
		"%", "%a", "_", "_a", "a", "a%", "a_", "a\x00", "a\x00b", "ab", "a\x7f", "a\x80", "a\xff",
		"a\xff\x00", "a\xff\xff", "a\xff\xffz", "b", "\x00", "\x00\x00", "\xff", "\xff\xff", "\\", "\\x41", "A",
		"é", "e\u0301", "\xc3", "'", "''", "$1",
	}
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	for _, mode := range execModes {
		t.Run("mode="+mode, func(t *testing.T) {
			s := openT(t, modeDSN(t, mode))
			for _, ns := range []string{"ns", "\x00\xff%_\\"} {
				mustUpdate(t, s, func(tx store.Tx) error {
					for _, k := range keys {
						if err := tx.Put(ns, k, []byte(k)); err != nil {
							return err
						}
					}
					return nil
				})
				for _, prefix := range []string{"", "%", "_", "a", "a%", "a_", "a\x00", "a\xff", "a\xff\xff", "\x00", "\xff", "\xff\xff", "\xff\xff\xff", "\\", "z"} {
					var want []string
					for _, k := range sorted {
						if strings.HasPrefix(k, prefix) {
							want = append(want, k)
						}
					}
					var got []string
					if err := s.View(t.Context(), func(tx store.Tx) error {
						kvs, err := tx.Scan(ns, prefix)
						for _, kv := range kvs {
							got = append(got, kv.Key)
							if kv.Key != string(kv.Value) {
								t.Errorf("Scan(%q): key %q has value %q", prefix, kv.Key, kv.Value)
							}
						}
						return err
					}); err != nil {
						t.Fatalf("Scan(%q, %q): %v", ns, prefix, err)
					}
					if !slices.Equal(got, want) {
						t.Errorf("Scan(%q, %q) = %q, want %q", ns, prefix, got, want)
					}
				}
			}
			// The other namespace holds the same keys; deleting in one leaves the other.
			mustUpdate(t, s, func(tx store.Tx) error { return tx.Delete("ns", "a\x00") })
			wantValue(t, s, "\x00\xff%_\\", "a\x00", "a\x00")
		})
	}
}

// TestPaging scans through many pages through the driver directly, in every exec mode: every
// page is in order, and more is exact.
func TestPaging(t *testing.T) {
	for _, mode := range execModes {
		t.Run("mode="+mode, func(t *testing.T) {
			ctx := t.Context()
			d, err := postgres.NewDriver(ctx, modeDSN(t, mode))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			w, err := d.Begin(ctx, true)
			if err != nil {
				t.Fatal(err)
			}
			var all []string
			for i := range 10 {
				k := "p" + string(rune('0'+i))
				all = append(all, k)
				if err := w.Put(ctx, "ns", k, nil); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Put(ctx, "ns", "q", []byte("x")); err != nil {
				t.Fatal(err)
			}
			if err := w.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			r, err := d.Begin(ctx, false)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Rollback()
			for _, limit := range []int{1, 3, 5, 9, 10, 11, 100} {
				var got []string
				after := ""
				for {
					page, more, err := r.Scan(ctx, "ns", "p", after, limit)
					if err != nil {
						t.Fatal(err)
					}
					for _, kv := range page {
						got = append(got, kv.Key)
						after = kv.Key
						if kv.Value == nil || len(kv.Value) != 0 {
							t.Fatalf("%q = %#v, want an empty, non-nil value", kv.Key, kv.Value)
						}
					}
					if wantMore := len(got) < len(all); more != wantMore {
						t.Fatalf("limit %d: page ending at %q: more = %v, want %v", limit, after, more, wantMore)
					}
					if !more {
						break
					}
				}
				if !slices.Equal(got, all) {
					t.Fatalf("limit %d: paged scan = %q, want %q", limit, got, all)
				}
			}
			if page, more, err := r.Scan(ctx, "ns", "p", "p\xff", 10); err != nil || more || len(page) != 0 {
				t.Fatalf("Scan after the prefix range = %v, %v, %v; want nothing", page, more, err)
			}
			if page, _, err := r.Scan(ctx, "ns", "p5", "a", 10); err != nil || len(page) != 1 || page[0].Key != "p5" {
				t.Fatalf("Scan(p5, after a) = %v, %v; want [p5]", page, err)
			}
		})
	}
}

// TestStoredAsBytea looks at the table behind the driver: keys, namespaces and values are
// bytea, an empty value is an empty bytea (not NULL, also when it overwrites a value), and the
// bytes are exactly the Go string's.
func TestStoredAsBytea(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := openT(t, dsn)
	mustUpdate(t, s, func(tx store.Tx) error { return tx.Put("n\x00s", "k\xff", []byte("overwritten")) })
	mustUpdate(t, s, func(tx store.Tx) error {
		if err := tx.Put("n\x00s", "k\xff", nil); err != nil {
			return err
		}
		return tx.Put("n\x00s", "\\x41", []byte{})
	})
	rows, err := sqlConn(t, dsn).Query(t.Context(),
		`SELECT ns, k, v IS NULL, length(v), pg_typeof(ns)::text, pg_typeof(k)::text, pg_typeof(v)::text FROM `+postgres.DefaultTable+` WHERE ns <> $1 ORDER BY k`,
		[]byte(store.NamespaceCatalog))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var ns, k []byte
		var null bool
		var n int
		var tns, tk, tv string
		if err := rows.Scan(&ns, &k, &null, &n, &tns, &tk, &tv); err != nil {
			t.Fatal(err)
		}
		if string(ns) != "n\x00s" || null || n != 0 || tns != "bytea" || tk != "bytea" || tv != "bytea" {
			t.Errorf("row %q/%q: null %v, length %d, types %s %s %s; want bytea, an empty value", ns, k, null, n, tns, tk, tv)
		}
		got = append(got, string(k))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"\\x41", "k\xff"}; !slices.Equal(got, want) {
		t.Fatalf("stored keys %q, want %q", got, want)
	}
}
