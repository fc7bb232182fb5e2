package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/drivers/sqlite"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

func TestConformance(t *testing.T) {
	newPath := func(t storetest.T) string { return filepath.Join(t.TempDir(), "store.db") }
	open := func(ctx context.Context, path string) (store.Store, error) { return sqlite.Open(ctx, path) }
	storetest.Run(t, storetest.ByDSN(storetest.Capabilities{Durable: true, ConcurrentReaders: true}, newPath, open))
}

func openT(t *testing.T, path string) store.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestRegistered(t *testing.T) {
	if !slices.Contains(store.Drivers(), sqlite.Name) {
		t.Fatalf("store.Drivers() = %q, want it to contain %q", store.Drivers(), sqlite.Name)
	}
	s, err := store.Open(t.Context(), "sqlite", filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "garbage.db")
	junk := bytes.Repeat([]byte("this is certainly not a SQLite database file\n"), 200)
	if err := os.WriteFile(path, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(t.Context(), path)
	if err == nil {
		_ = s.Close()
		t.Fatalf("Open of a non-database file succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, path) || !strings.Contains(msg, "not a SQLite database") {
		t.Fatalf("Open error %q: want it to name %s and say it is not a SQLite database", msg, path)
	}
	got, rerr := os.ReadFile(path)
	if rerr != nil || !bytes.Equal(got, junk) {
		t.Fatalf("the non-database file was modified (err %v)", rerr)
	}
}

func TestMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing", "sub")
	path := filepath.Join(dir, "x.db")
	s, err := sqlite.Open(t.Context(), path)
	if err == nil {
		_ = s.Close()
		t.Fatalf("Open in a missing directory succeeded")
	}
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Open error %q: want fs.ErrNotExist naming %s", err, dir)
	}
	if _, err := os.Stat(filepath.Dir(dir)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the missing directory was created (stat: %v)", err)
	}
}

func TestBadPaths(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{"", ":memory:", "file:" + filepath.Join(dir, "x.db"), dir} {
		s, err := sqlite.Open(t.Context(), path)
		if err == nil {
			_ = s.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
			continue
		}
		t.Logf("Open(%q): %v", path, err)
	}
}

// TestOddPath opens files whose names hold URI syntax: the path must be taken literally.
func TestOddPath(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a?mode=ro&_pragma=x.db", "b#frag.db", "c%41.db", "d e.db", "é.db"} {
		path := filepath.Join(dir, name)
		s := openT(t, path)
		if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.Put("ns", "k", []byte(name)) }); err != nil {
			t.Fatalf("%q: Update: %v", name, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("%q: Close: %v", name, err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("%q: the database file is not at its literal path: %v", name, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 5 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("directory holds %q, want exactly the 5 database files", names)
	}
}

func setUserVersion(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	s := openT(t, path)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	setUserVersion(t, path, "PRAGMA user_version = 99")
	s, err := sqlite.Open(t.Context(), path)
	if err == nil {
		_ = s.Close()
		t.Fatalf("Open of a file with user_version 99 succeeded")
	}
	if !strings.Contains(err.Error(), "schema version 99") || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open error %q: want it to name the path and schema version 99", err)
	}
}

func TestForeignDatabaseRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	setUserVersion(t, path, "CREATE TABLE t (x)")
	s, err := sqlite.Open(t.Context(), path)
	if err == nil {
		_ = s.Close()
		t.Fatalf("Open of another application's database succeeded")
	}
	if !strings.Contains(err.Error(), "not a Dockyard store") {
		t.Fatalf("Open error %q: want it to say the file is not a Dockyard store", err)
	}
}

// TestSnapshot checks a View keeps reading the snapshot of its first read while an Update
// commits beside it.
func TestSnapshot(t *testing.T) {
	ctx := t.Context()
	s := openT(t, filepath.Join(t.TempDir(), "x.db"))
	if err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.Put("ns", "a", []byte("old")); err != nil {
			return err
		}
		return tx.Put("ns", "b", []byte("old"))
	}); err != nil {
		t.Fatal(err)
	}
	read, committed := make(chan struct{}), make(chan struct{})
	updErr := make(chan error, 1)
	go func() {
		<-read
		updErr <- s.Update(ctx, func(tx store.Tx) error {
			for _, k := range []string{"a", "b", "c"} {
				if err := tx.Put("ns", k, []byte("new")); err != nil {
					return err
				}
			}
			return nil
		})
		close(committed)
	}()
	err := s.View(ctx, func(tx store.Tx) error {
		v, err := tx.Get("ns", "a")
		if err != nil || string(v) != "old" {
			t.Errorf("first read: %q, %v; want old", v, err)
		}
		close(read)
		select {
		case <-committed:
		case <-time.After(10 * time.Second):
			t.Errorf("the Update did not commit while a View was open")
		}
		if err := <-updErr; err != nil {
			t.Errorf("Update: %v", err)
		}
		for i := range 3 {
			for _, k := range []string{"a", "b"} {
				if v, err := tx.Get("ns", k); err != nil || string(v) != "old" {
					t.Errorf("read %d of %q after the Update committed: %q, %v; want old", i, k, v, err)
				}
			}
			if v, err := tx.Get("ns", "c"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("read %d of c after the Update committed: %q, %v; want ErrNotFound", i, v, err)
			}
			kvs, err := tx.Scan("ns", "")
			if err != nil || len(kvs) != 2 || string(kvs[0].Value) != "old" || string(kvs[1].Value) != "old" {
				t.Errorf("scan %d after the Update committed: %v, %v; want a=old b=old", i, kvs, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.View(ctx, func(tx store.Tx) error {
		kvs, err := tx.Scan("ns", "")
		if err != nil || len(kvs) != 3 {
			t.Errorf("a View after the Update: %v, %v; want 3 new entries", kvs, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestEmptyValues(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "x.db")
	s := openT(t, path)
	if err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.Put("ns", "nil", nil); err != nil {
			return err
		}
		return tx.Put("ns", "empty", []byte{})
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.View(ctx, func(tx store.Tx) error {
		for _, k := range []string{"nil", "empty"} {
			v, err := tx.Get("ns", k)
			if err != nil || v == nil || len(v) != 0 {
				t.Errorf("Get(%q) = %#v, %v; want a non-nil empty slice", k, v, err)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// On disk both are zero-length BLOBs, not NULL or TEXT, and so are the keys.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT typeof(ns), typeof(k), typeof(v), length(v) FROM kv WHERE ns != ?`, []byte(store.NamespaceCatalog))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var tns, tk, tv string
		var l int
		if err := rows.Scan(&tns, &tk, &tv, &l); err != nil {
			t.Fatal(err)
		}
		if tns != "blob" || tk != "blob" || tv != "blob" || l != 0 {
			t.Errorf("stored row types (%s, %s, %s) length %d; want blobs of length 0", tns, tk, tv, l)
		}
		n++
	}
	if err := rows.Err(); err != nil || n != 2 {
		t.Fatalf("read %d rows (%v), want 2", n, err)
	}
}

// TestByteOrder checks keys holding LIKE wildcards, NUL and 0xff bytes scan in byte order and
// prefixes match bytes, not patterns.
func TestByteOrder(t *testing.T) {
	ctx := t.Context()
	s := openT(t, filepath.Join(t.TempDir(), "x.db"))
	keys := []string{
		"%", "%a", "_", "_a", "a", "a%", "a_", "a\x00", "a\x00b", "ab", "a\x7f", "a\x80", "a\xff",
		"a\xff\x00", "a\xff\xff", "a\xff\xffz", "b", "\x00", "\x00\x00", "\xff", "\xff\xff", "\\", "A",
	}
	if err := s.Update(ctx, func(tx store.Tx) error {
		for _, k := range keys {
			if err := tx.Put("ns", k, []byte(k)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	for _, prefix := range []string{"", "%", "_", "a", "a%", "a_", "a\x00", "a\xff", "a\xff\xff", "\x00", "\xff", "\xff\xff", "\xff\xff\xff", "z"} {
		var want []string
		for _, k := range sorted {
			if strings.HasPrefix(k, prefix) {
				want = append(want, k)
			}
		}
		var got []string
		if err := s.View(ctx, func(tx store.Tx) error {
			kvs, err := tx.Scan("ns", prefix)
			for _, kv := range kvs {
				got = append(got, kv.Key)
				if kv.Key != string(kv.Value) {
					t.Errorf("Scan(%q): key %q has value %q", prefix, kv.Key, kv.Value)
				}
			}
			return err
		}); err != nil {
			t.Fatalf("Scan(%q): %v", prefix, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("Scan(%q) = %q, want %q", prefix, got, want)
		}
	}
}

// TestPaging scans through many pages, with the adapter's page size forced small, through the
// driver directly: every page is in order and more is exact.
func TestPaging(t *testing.T) {
	ctx := t.Context()
	d, err := sqlite.NewDriver(ctx, filepath.Join(t.TempDir(), "x.db"))
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
			}
			wantMore := len(got) < len(all)
			if more != wantMore {
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
	// An after beyond the prefix's range yields nothing.
	if page, more, err := r.Scan(ctx, "ns", "p", "p\xff", 10); err != nil || more || len(page) != 0 {
		t.Fatalf("Scan after the prefix range = %v, %v, %v; want nothing", page, more, err)
	}
	// An after before the prefix starts at the prefix.
	if page, _, err := r.Scan(ctx, "ns", "p5", "a", 10); err != nil || len(page) != 1 || page[0].Key != "p5" {
		t.Fatalf("Scan(p5, after a) = %v, %v; want [p5]", page, err)
	}
}
