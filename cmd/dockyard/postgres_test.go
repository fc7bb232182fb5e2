package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// conformTables is the LIKE pattern of the tables conform makes, one per case.
const conformTables = `dockyard\_conform\_%`

// pgTables counts the tables of dsn's schema whose names are LIKE pattern.
func pgTables(t *testing.T, dsn, pattern string) (n int) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	q := `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE $1`
	if err := conn.QueryRow(context.Background(), q, pattern).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)

	// drivers opens read-only: on a database without a store it creates no table, and says
	// there is none.
	r := mustRun(t, exitOK, "", "drivers", "--json", "--dsn", "postgres="+dsn)
	var none driversJSON
	decodeJSON(t, r.stdout, &none)
	for _, d := range none.Drivers {
		if d.Name == "postgres" && (d.Caps != nil || !strings.Contains(d.Note, "no store there")) {
			t.Errorf("drivers --dsn postgres=... without a store: %+v (%+v), want no capabilities and a note", d, d.Caps)
		}
	}
	tables := func() int { return pgTables(t, dsn, "%") }
	if n := tables(); n != 0 {
		t.Fatalf("drivers --dsn created %d tables", n)
	}
	mustRun(t, exitFailed, "", "get", "--store", "postgres:"+dsn, "ns", "k")
	if n := tables(); n != 0 {
		t.Fatalf("get on a database without a store created %d tables", n)
	}

	// With a store there, drivers shows the capabilities.
	mustRun(t, exitOK, "", "put", "--store", "postgres:"+dsn, "ns", "k", "v")
	r = mustRun(t, exitOK, "", "drivers", "--json", "--dsn", "postgres="+dsn)
	var ds driversJSON
	decodeJSON(t, r.stdout, &ds)
	for _, d := range ds.Drivers {
		if d.Name == "postgres" && (d.Caps == nil || !d.Caps.Durable || !d.Caps.ConcurrentReaders) {
			t.Errorf("drivers --dsn postgres=...: %+v (%+v)", d, d.Caps)
		}
	}

	// conform gives every store a table of its own, and drops them.
	r = mustRun(t, exitOK, "", "conform", "--json", "--dsn", dsn, "--run", "^(UpdateCommits|ScanOfManyPages|Durability|StoresAreIndependent|MigrateAppliesInOrderOnce)$", "postgres")
	var out conformJSON
	decodeJSON(t, r.stdout, &out)
	if out.Passed != 5 || out.Failed != 0 || !out.Caps.Durable {
		t.Errorf("conform postgres: %+v", out)
	}
	if n := pgTables(t, dsn, conformTables); n != 0 {
		t.Errorf("conform left %d tables on the server", n)
	}

	// copy sqlite -> postgres -> sqlite.
	src := filepath.Join(t.TempDir(), "src.db")
	back := filepath.Join(t.TempDir(), "back.db")
	data := copyFixture()
	fill(t, "sqlite", src, data)
	pg, err := withParam(dsn, "dockyard_table", "copied")
	if err != nil {
		t.Fatal(err)
	}
	if sum := copySummary(t, exitOK, "--from", "sqlite:"+src, "--to", "postgres:"+pg, "--batch", "10"); !sum.OK || sum.Written != sum.Keys {
		t.Errorf("copy to postgres: %+v", sum)
	}
	if sum := copySummary(t, exitOK, "--from", "postgres:"+pg, "--to", "sqlite:"+back); !sum.OK {
		t.Errorf("copy from postgres: %+v", sum)
	}
	sameContents(t, "sqlite after a round trip through postgres", contents(t, "sqlite", back), data)
}

func TestWithParam(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://u:p@h:5432/db?sslmode=disable", "postgres://u:p@h:5432/db?dockyard_table=t1&sslmode=disable"},
		{"postgresql://h/db", "postgresql://h/db?dockyard_table=t1"},
		{"host=h dbname=db", "host=h dbname=db dockyard_table=t1"},
		{"", "dockyard_table=t1"},
	} {
		if got, err := withParam(c.in, "dockyard_table", "t1"); err != nil || got != c.want {
			t.Errorf("withParam(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}
