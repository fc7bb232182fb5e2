package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/store"
)

// binary namespace, key and value: every awkward byte.
const (
	binNS  = "\x00\xffns\n"
	binKey = "k\x00\xff\t%_\\"
)

var binValue = []byte("v\x00\xff\r\n\x1b[31m")

func TestKeyValueCommandsBinarySafe(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "kv.db")
	st := []string{"--driver", "sqlite", "--dsn", dsn}
	hx := func(s string) string { return hex.EncodeToString([]byte(s)) }

	// put: value from stdin, namespace and key in hex.
	mustRun(t, exitOK, string(binValue), append([]string{"put", "--hex-ns", "--hex-keys", hx(binNS), hx(binKey)}, st...)...)
	// put: value as an argument, and in hex.
	mustRun(t, exitOK, "", append([]string{"put", "plain", "a", "alpha"}, st...)...)
	mustRun(t, exitOK, "", append([]string{"put", "--hex", "plain", "b", "00 01\nff"}, st...)...)
	mustRun(t, exitOK, "", append([]string{"put", "plain", "c", ""}, st...)...) // empty value: present

	// get: raw bytes, hex, JSON.
	r := mustRun(t, exitOK, "", append([]string{"get", "--hex-ns", "--hex-keys", hx(binNS), hx(binKey)}, st...)...)
	if !bytes.Equal([]byte(r.stdout), binValue) {
		t.Errorf("get raw = %q, want %q", r.stdout, binValue)
	}
	r = mustRun(t, exitOK, "", append([]string{"get", "--hex", "plain", "b"}, st...)...)
	if r.stdout != "0001ff\n" {
		t.Errorf("get --hex = %q, want %q", r.stdout, "0001ff\n")
	}
	r = mustRun(t, exitOK, "", append([]string{"get", "--json", "--hex-ns", "--hex-keys", hx(binNS), hx(binKey)}, st...)...)
	var got struct{ Namespace, Key, Value string }
	decodeJSON(t, r.stdout, &got)
	for _, c := range []struct{ name, enc, want string }{{"namespace", got.Namespace, binNS}, {"key", got.Key, binKey}, {"value", got.Value, string(binValue)}} {
		if b, err := base64.StdEncoding.DecodeString(c.enc); err != nil || string(b) != c.want {
			t.Errorf("get --json %s = %q (%v), want base64 of %q", c.name, c.enc, err, c.want)
		}
	}
	r = mustRun(t, exitOK, "", append([]string{"get", "plain", "c"}, st...)...)
	if r.stdout != "" {
		t.Errorf("get of an empty value = %q", r.stdout)
	}

	// scan: text, JSON Lines, hex, limit and after.
	r = mustRun(t, exitOK, "", append([]string{"scan", "plain"}, st...)...)
	if want := "a\talpha\nb\t\"\\x00\\x01\\xff\"\nc\t\"\"\n"; r.stdout != want {
		t.Errorf("scan text =\n%q, want\n%q", r.stdout, want)
	}
	r = mustRun(t, exitOK, "", append([]string{"scan", "--json", "--hex-ns", "--hex-keys", hx(binNS), hx("k\x00")}, st...)...)
	lines := jsonLines(t, r.stdout)
	if len(lines) != 1 || lines[0].Key != base64.StdEncoding.EncodeToString([]byte(binKey)) ||
		lines[0].Value == nil || *lines[0].Value != base64.StdEncoding.EncodeToString(binValue) {
		t.Errorf("scan --json of the binary namespace = %s", r.stdout)
	}
	r = mustRun(t, exitOK, "", append([]string{"scan", "--hex", "--keys-only", "--limit", "1", "--after", "a", "plain"}, st...)...)
	if r.stdout != "62\n" {
		t.Errorf("scan --hex --keys-only --limit 1 --after a = %q, want %q", r.stdout, "62\n")
	}
	r = mustRun(t, exitOK, "", append([]string{"scan", "plain", "zzz"}, st...)...)
	if r.stdout != "" {
		t.Errorf("scan of an absent prefix = %q", r.stdout)
	}

	// namespaces: the reserved ones hidden unless --all.
	migrate(t, "sqlite", dsn, "0001_init")
	r = mustRun(t, exitOK, "", append([]string{"namespaces", "--json", "--count"}, st...)...)
	var nss []namespaceJSON
	decodeJSON(t, r.stdout, &nss)
	if names := nsNames(t, nss); !slices.Equal(names, []string{binNS, "plain"}) {
		t.Errorf("namespaces = %q, want %q", names, []string{binNS, "plain"})
	}
	if *nss[0].Keys != 1 || *nss[1].Keys != 4 { // a, b, c and the migration's key
		t.Errorf("namespaces --count = %d, %d; want 1, 4", *nss[0].Keys, *nss[1].Keys)
	}
	r = mustRun(t, exitOK, "", append([]string{"namespaces", "--json", "--all"}, st...)...)
	nss = nil
	decodeJSON(t, r.stdout, &nss)
	if names := nsNames(t, nss); !slices.Equal(names, []string{store.MigrationNamespace, binNS, "plain"}) || !nss[0].Reserved {
		t.Errorf("namespaces --all = %q (%+v)", names, nss)
	}
	r = mustRun(t, exitOK, "", append([]string{"namespaces"}, st...)...)
	if want := "\"\\x00\\xffns\\n\"\nplain\n"; r.stdout != want {
		t.Errorf("namespaces text = %q, want %q", r.stdout, want)
	}

	// delete: present, then absent (not found), then absent with --force.
	mustRun(t, exitOK, "", append([]string{"delete", "--hex-ns", "--hex-keys", hx(binNS), hx(binKey)}, st...)...)
	r = mustRun(t, exitFailed, "", append([]string{"get", "--hex-ns", "--hex-keys", hx(binNS), hx(binKey)}, st...)...)
	if !strings.Contains(r.stderr, "not found") || r.stdout != "" {
		t.Errorf("get after delete: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	mustRun(t, exitFailed, "", append([]string{"delete", "--hex-ns", "--hex-keys", hx(binNS), hx(binKey)}, st...)...)
	mustRun(t, exitOK, "", append([]string{"delete", "-f", "--hex-ns", "--hex-keys", hx(binNS), hx(binKey)}, st...)...)
}

// jsonLines parses scan --json output.
func jsonLines(t *testing.T, s string) []scanEntry {
	t.Helper()
	var out []scanEntry
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		var e scanEntry
		decodeJSON(t, sc.Text(), &e)
		out = append(out, e)
	}
	return out
}

func nsNames(t *testing.T, nss []namespaceJSON) []string {
	t.Helper()
	var names []string
	for _, n := range nss {
		b, err := base64.StdEncoding.DecodeString(n.Namespace)
		if err != nil {
			t.Fatalf("namespace %q is not base64: %v", n.Namespace, err)
		}
		names = append(names, string(b))
	}
	return names
}

// migrate applies migrations with the given IDs to the store, each writing one key.
func migrate(t *testing.T, driver, dsn string, ids ...string) {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	set := store.NewMigrationSet()
	for _, id := range ids {
		set.MustAdd(store.Migration{ID: id, Up: func(_ context.Context, tx store.Tx) error {
			return tx.Put("plain", "migrated-"+id, []byte(id))
		}})
	}
	if err := store.RunMigrations(ctx, s, set); err != nil {
		t.Fatal(err)
	}
}

func TestMigrations(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "m.db")
	st := []string{"--driver", "sqlite", "--dsn", dsn}
	mustRun(t, exitOK, "", "put", "--driver", "sqlite", "--dsn", dsn, "ns", "k", "v")
	r := mustRun(t, exitOK, "", append([]string{"migrations", "--json"}, st...)...)
	var list []migrationJSON
	decodeJSON(t, r.stdout, &list)
	if len(list) != 0 {
		t.Errorf("migrations of a new store = %+v", list)
	}
	migrate(t, "sqlite", dsn, "0001_init", "0002_users")
	migrate(t, "sqlite", dsn, "0001_init", "0002_users", "0003_more")
	r = mustRun(t, exitOK, "", append([]string{"migrations", "--json"}, st...)...)
	list = nil
	decodeJSON(t, r.stdout, &list)
	if len(list) != 3 {
		t.Fatalf("migrations = %+v, want 3", list)
	}
	for i, id := range []string{"0001_init", "0002_users", "0003_more"} {
		if list[i].ID != id || list[i].Ordinal != i || list[i].AppliedAt.IsZero() {
			t.Errorf("migration %d = %+v, want ID %s, ordinal %d, a time", i, list[i], id, i)
		}
	}
	r = mustRun(t, exitOK, "", append([]string{"migrations"}, st...)...)
	if !strings.Contains(r.stdout, "ORDINAL") || !strings.Contains(r.stdout, "0003_more") {
		t.Errorf("migrations text:\n%s", r.stdout)
	}
}

// TestReadsCreateNothing: get, scan, namespaces, migrations and copy's source, on a DSN that
// names no store, fail saying so, and leave nothing behind: a mistyped DSN must not become an
// empty store.
func TestReadsCreateNothing(t *testing.T) {
	dir := t.TempDir()
	for _, c := range [][]string{
		{"get", "--driver", "sqlite", "--dsn", filepath.Join(dir, "typo.db"), "ns", "k"},
		{"scan", "--driver", "sqlite", "--dsn", filepath.Join(dir, "typo.db"), "ns"},
		{"namespaces", "--driver", "sqlite", "--dsn", filepath.Join(dir, "typo.db")},
		{"migrations", "--driver", "sqlite", "--dsn", filepath.Join(dir, "typo.db")},
		{"copy", "--from", "sqlite:" + filepath.Join(dir, "typo.db"), "--to", "inmem:"},
		{"namespaces", "--driver", "buntdb", "--dsn", filepath.Join(dir, "typo-dir")},
	} {
		r := mustRun(t, exitFailed, "", c...)
		if !strings.Contains(r.stderr, "never creates one") {
			t.Errorf("dockyard %q: stderr %q, want it to say no store was created", c, r.stderr)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("read commands created %v", entries)
	}
}

// TestStoreSpec: --store DRIVER:DSN and $DOCKYARD_STORE name a store as --driver and --dsn do.
func TestStoreSpec(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	mustRun(t, exitOK, "", "put", "--store", "sqlite:"+db, "ns", "k", "v")
	t.Setenv(EnvStore, "sqlite:"+db)
	if r := mustRun(t, exitOK, "", "get", "ns", "k"); r.stdout != "v" {
		t.Errorf("get through $%s = %q, want v", EnvStore, r.stdout)
	}
	if r := mustRun(t, exitFailed, "", "get", "--driver", "inmem", "ns", "k"); !strings.Contains(r.stderr, "not found") {
		t.Errorf("--driver inmem did not override $%s: %q", EnvStore, r.stderr)
	}
	r := mustRun(t, exitUsage, "", "get", "--driver", "sqlite", "--store", "sqlite:"+db, "ns", "k")
	if !strings.Contains(r.stderr, "not both") {
		t.Errorf("--driver with --store: %q", r.stderr)
	}
	t.Setenv(EnvStore, "sqlite")
	if r := mustRun(t, exitUsage, "", "get", "ns", "k"); !strings.Contains(r.stderr, "$"+EnvStore) {
		t.Errorf("a malformed $%s: %q", EnvStore, r.stderr)
	}
}
