package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/store"
)

// TestStoreSpecEveryCommand: every command on one store takes it as --store DRIVER:DSN or from
// $DOCKYARD_STORE, parsed as store.OpenDSN parses it; copy and drivers take the same form.
func TestStoreSpecEveryCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "every.db")
	spec := "sqlite:" + db

	// An application opens the store by the same string and migrates it.
	ctx := context.Background()
	s, err := store.OpenDSN(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	set := store.NewMigrationSet().MustAdd(store.Migration{ID: "0001_spec", Up: func(ctx context.Context, tx store.Tx) error {
		return tx.Put("app", "schema", []byte("1"))
	}})
	if err := s.Migrate(ctx, set); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// kv: put, get, delete.
	mustRun(t, exitOK, "", "put", "--store", spec, "app", "k", "v")
	mustRun(t, exitOK, "", "delete", "--store", spec, "app", "k")
	mustRun(t, exitFailed, "", "get", "--store", spec, "app", "k")
	// scan and namespaces.
	if r := mustRun(t, exitOK, "", "scan", "--store", spec, "app"); !strings.Contains(r.stdout, "schema") {
		t.Errorf("scan --store: %q", r.stdout)
	}
	if r := mustRun(t, exitOK, "", "namespaces", "--store", spec); !strings.Contains(r.stdout, "app") {
		t.Errorf("namespaces --store: %q", r.stdout)
	}
	// bench.
	if r := mustRun(t, exitOK, "", "bench", "--store", "inmem:", "--ops", "20", "--keys", "10", "--json"); !strings.Contains(r.stdout, `"driver": "inmem"`) {
		t.Errorf("bench --store inmem: %s", r.stdout)
	}
	// copy, from the store named by the same string.
	mustRun(t, exitOK, "", "copy", "--from", spec, "--to", "buntdb:"+t.TempDir())
	// drivers --dsn NAME:DSN probes the driver on the DSN given, as NAME=DSN does.
	missing := filepath.Join(dir, "no", "such", "dir", "x.db")
	for _, probe := range []string{"sqlite:" + missing, "sqlite=" + missing} {
		var out driversJSON
		decodeJSON(t, mustRun(t, exitOK, "", "drivers", "--json", "--dsn", probe).stdout, &out)
		for _, d := range out.Drivers {
			if d.Name == "sqlite" && (d.Caps != nil || !strings.Contains(d.Note, missing)) {
				t.Errorf("drivers --dsn %s: %+v; want the probe on %s, failing", probe, d, missing)
			}
		}
	}

	// The environment's default, for every command on one store.
	t.Setenv(EnvStore, spec)
	if r := mustRun(t, exitOK, "", "migrations", "--json"); !strings.Contains(r.stdout, `"0001_spec"`) {
		t.Errorf("migrations through $%s: %s", EnvStore, r.stdout)
	}
	if r := mustRun(t, exitOK, "", "get", "app", "schema"); r.stdout != "1" {
		t.Errorf("get through $%s: %q", EnvStore, r.stdout)
	}
	mustRun(t, exitOK, "", "bench", "--ops", "20", "--keys", "10")
	// An explicit store wins over the environment's.
	mustRun(t, exitFailed, "", "get", "--store", "inmem:", "app", "schema")

	// Command lines that are wrong.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "--store", spec, "--dsn", db, "app", "k"}, "not both"},
		{[]string{"get", "--dsn", db, "app", "k"}, "--dsn needs --driver"},
		{[]string{"get", "--store", "sqlite", "app", "k"}, `--store: store: malformed DRIVER:DSN: "sqlite" has no ':'`},
		{[]string{"scan", "--store", ":x.db", "app"}, "names no driver"},
		{[]string{"migrations", "--store", "nosuchdriver:x"}, `driver "nosuchdriver"`},
		{[]string{"copy", "--from", spec, "--to", "buntdb"}, `--to: store: malformed DRIVER:DSN: "buntdb" has no ':'`},
		{[]string{"drivers", "--dsn", ":x"}, "--dsn: store: malformed DRIVER:DSN"},
	} {
		wantStderr(t, mustRun(t, exitUsage, "", c.args...), c.want)
	}
	t.Setenv(EnvStore, "")
	wantStderr(t, mustRun(t, exitUsage, "", "get", "app", "k"), "--driver is required", "--store DRIVER:DSN", "$"+EnvStore)
}

// TestStoreSpecHelp: the help says how a store is named, and the environment's default.
func TestStoreSpecHelp(t *testing.T) {
	r := mustRun(t, exitOK, "", "--help")
	for _, want := range []string{"--store DRIVER:DSN", "DOCKYARD_STORE", "store.OpenDSN", "first ':'"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dockyard --help does not say %q", want)
		}
	}
	for _, cmd := range []string{"get", "put", "delete", "scan", "namespaces", "migrations", "bench"} {
		if r := mustRun(t, exitOK, "", cmd, "--help"); !strings.Contains(r.stdout, "--store DRIVER:DSN") || !strings.Contains(r.stdout, "$"+EnvStore) {
			t.Errorf("dockyard %s --help does not offer --store DRIVER:DSN and $%s:\n%s", cmd, EnvStore, r.stdout)
		}
	}
}
