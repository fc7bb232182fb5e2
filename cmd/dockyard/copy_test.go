package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/store"
)

// copyFixture is the content of the source store of the copy tests: several namespaces,
// binary keys and values, more keys than one batch.
func copyFixture() map[string]map[string][]byte {
	data := map[string]map[string][]byte{
		binNS:   {binKey: binValue, "\xff": {}, "\x00": []byte("zero")},
		"users": {"ada": []byte("Ada Lovelace"), "bob": bytes.Repeat([]byte{0xab}, 70000)},
		"many":  {},
	}
	for i := range 25 {
		data["many"][fmt.Sprintf("k%03d\x00", i)] = []byte(fmt.Sprint(i))
	}
	return data
}

func fill(t *testing.T, driver, dsn string, data map[string]map[string][]byte) {
	t.Helper()
	s, err := store.Open(context.Background(), driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Update(context.Background(), func(tx store.Tx) error {
		for ns, kvs := range data {
			for k, v := range kvs {
				if err := tx.Put(ns, k, v); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// contents reads every namespace of a store (the catalog's), reserved ones included.
func contents(t *testing.T, driver, dsn string) map[string]map[string][]byte {
	t.Helper()
	s, err := store.Open(context.Background(), driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out := map[string]map[string][]byte{}
	err = s.View(context.Background(), func(tx store.Tx) error {
		names, err := store.Namespaces(tx)
		if err != nil {
			return err
		}
		for _, ns := range names {
			kvs, err := tx.Scan(ns, "")
			if err != nil {
				return err
			}
			out[ns] = map[string][]byte{}
			for _, kv := range kvs {
				out[ns][kv.Key] = kv.Value
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameContents(t *testing.T, what string, got, want map[string]map[string][]byte) {
	t.Helper()
	for ns, kvs := range want {
		if len(got[ns]) != len(kvs) {
			t.Errorf("%s: namespace %q has %d keys, want %d", what, ns, len(got[ns]), len(kvs))
		}
		for k, v := range kvs {
			if g, ok := got[ns][k]; !ok || !bytes.Equal(g, v) {
				t.Errorf("%s: namespace %q key %q = %.20q (present %v), want %.20q", what, ns, k, g, ok, v)
			}
		}
	}
	for ns := range got {
		if _, ok := want[ns]; !ok && len(got[ns]) > 0 {
			t.Errorf("%s: unexpected namespace %q", what, ns)
		}
	}
}

func copySummary(t *testing.T, want int, args ...string) copyJSON {
	t.Helper()
	r := mustRun(t, want, "", append([]string{"copy", "--json"}, args...)...)
	var sum copyJSON
	decodeJSON(t, r.stdout, &sum)
	return sum
}

func TestCopyBetweenDrivers(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	bunt := filepath.Join(dir, "bunt")
	back := filepath.Join(dir, "back.db")
	if err := os.Mkdir(bunt, 0o700); err != nil {
		t.Fatal(err)
	}
	data := copyFixture()
	fill(t, "sqlite", src, data)
	migrate(t, "sqlite", src, "0001_a", "0002_b")
	want := contents(t, "sqlite", src)
	if len(want[store.MigrationNamespace]) != 2 {
		t.Fatalf("fixture: migration records %q", want[store.MigrationNamespace])
	}

	// sqlite -> buntdb, in batches of 7.
	sum := copySummary(t, exitOK, "--from", "sqlite:"+src, "--to", "buntdb:"+bunt, "--batch", "7")
	total := 0
	for _, kvs := range want {
		total += len(kvs)
	}
	if !sum.OK || sum.Keys != int64(total) || sum.Written != int64(total) || sum.Unchanged != 0 || sum.From != "sqlite" || sum.To != "buntdb" {
		t.Errorf("first copy: %+v, want %d keys written", sum, total)
	}
	if len(sum.Namespaces) != len(want) {
		t.Errorf("first copy: %d namespaces, want %d (the reserved ones included)", len(sum.Namespaces), len(want))
	}
	for _, n := range sum.Namespaces {
		if !n.OK || n.SourceKeys != n.DestKeys || n.SourceSHA256 != n.DestSHA256 || len(n.SourceSHA256) != 64 {
			t.Errorf("namespace %s: %+v", n.Display, n)
		}
	}
	sameContents(t, "buntdb after copy", contents(t, "buntdb", bunt), want)

	// The migration records travelled: the application would not migrate again.
	r := mustRun(t, exitOK, "", "migrations", "--json", "--driver", "buntdb", "--dsn", bunt)
	var migs []migrationJSON
	decodeJSON(t, r.stdout, &migs)
	if len(migs) != 2 || migs[0].ID != "0001_a" || migs[1].ID != "0002_b" {
		t.Errorf("migrations on the destination: %+v", migs)
	}

	// Re-running writes nothing.
	sum = copySummary(t, exitOK, "--from", "sqlite:"+src, "--to", "buntdb:"+bunt, "--batch", "7")
	if !sum.OK || sum.Written != 0 || sum.Unchanged != int64(total) {
		t.Errorf("second copy: %+v, want nothing written", sum)
	}

	// A changed source value is copied again, and only it.
	fill(t, "sqlite", src, map[string]map[string][]byte{"users": {"ada": []byte("Countess")}})
	want["users"]["ada"] = []byte("Countess")
	sum = copySummary(t, exitOK, "--from", "sqlite:"+src, "--to", "buntdb:"+bunt)
	if !sum.OK || sum.Written != 1 {
		t.Errorf("copy after a change: %+v, want 1 written", sum)
	}

	// A key only in the destination fails the verification, and is named; --prune removes it.
	fill(t, "buntdb", bunt, map[string]map[string][]byte{"users": {"zed\x00": []byte("only here")}})
	r = mustRun(t, exitFailed, "", "copy", "--from", "sqlite:"+src, "--to", "buntdb:"+bunt)
	if !strings.Contains(r.stderr, "verification failed") || !strings.Contains(r.stderr, "namespace users: 1 keys only in the destination") {
		t.Errorf("copy onto an extra key: stderr %q", r.stderr)
	}
	if !strings.Contains(r.stdout, "MISMATCH") {
		t.Errorf("copy onto an extra key: summary without MISMATCH:\n%s", r.stdout)
	}
	sum = copySummary(t, exitOK, "--from", "sqlite:"+src, "--to", "buntdb:"+bunt, "--prune")
	if !sum.OK || sum.Pruned != 1 {
		t.Errorf("copy --prune: %+v, want 1 pruned", sum)
	}
	sameContents(t, "buntdb after prune", contents(t, "buntdb", bunt), want)

	// And back: buntdb -> a new sqlite store.
	sum = copySummary(t, exitOK, "--from", "buntdb:"+bunt, "--to", "sqlite:"+back, "--batch", "1000")
	if !sum.OK || sum.Keys != int64(total) {
		t.Errorf("copy back: %+v", sum)
	}
	sameContents(t, "sqlite after the copy back", contents(t, "sqlite", back), want)
}

// TestSplitDriverDSN: the CLI's DRIVER:DSN values are split by store.SplitDSN (whose own test
// has the cases); a malformed one is a usage error naming its flag.
func TestSplitDriverDSN(t *testing.T) {
	d, dsn, err := splitDriverDSN("--from", "etcd:etcd://u:p@127.0.0.1:2379,127.0.0.1:2380/a/b?lock_ttl=2s")
	if err != nil || d != "etcd" || dsn != "etcd://u:p@127.0.0.1:2379,127.0.0.1:2380/a/b?lock_ttl=2s" {
		t.Errorf("splitDriverDSN = %q, %q, %v", d, dsn, err)
	}
	for _, bad := range []string{"sqlite", ":x", ""} {
		_, _, err := splitDriverDSN("--from", bad)
		var u *usageError
		if !errors.As(err, &u) || !errors.Is(err, store.ErrInvalidDSN) || !strings.HasPrefix(err.Error(), "--from: ") {
			t.Errorf("splitDriverDSN(%q) = %v; want a usage error naming --from, wrapping store.ErrInvalidDSN", bad, err)
		}
	}
}
