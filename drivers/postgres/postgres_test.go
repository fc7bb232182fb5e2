package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dockyard/dockyard/drivers/postgres"
	"github.com/dockyard/dockyard/internal/pgtest"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var tableSeq atomic.Uint64

// freshTable returns a table name no store of this test binary has used.
func freshTable() string { return fmt.Sprintf("t%d", tableSeq.Add(1)) }

func TestConformance(t *testing.T) {
	dsn := pgtest.DSN(t)
	var mu sync.Mutex
	tables := map[store.Store]string{}
	openTable := func(ctx context.Context, table string) (store.Store, error) {
		s, err := postgres.Open(ctx, dsn, postgres.WithTable(table))
		if err != nil {
			return nil, err
		}
		mu.Lock()
		tables[s] = table
		mu.Unlock()
		return s, nil
	}
	storetest.Run(t, storetest.Harness{
		Open: func(ctx context.Context, t storetest.T) (store.Store, error) {
			return openTable(ctx, freshTable())
		},
		Reopen: func(ctx context.Context, t storetest.T, s store.Store) (store.Store, error) {
			mu.Lock()
			table, ok := tables[s]
			mu.Unlock()
			if !ok {
				return nil, errors.New("Reopen of a store this harness did not open")
			}
			return openTable(ctx, table)
		},
		Caps: storetest.Capabilities{Durable: true, ConcurrentReaders: true},
	})
}

// openT opens a store on dsn with opts, closed when t ends.
func openT(t testing.TB, dsn string, opts ...postgres.Option) store.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dsn, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// sqlConn is a plain connection to dsn, to look at the tables behind the driver.
func sqlConn(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func mustUpdate(t testing.TB, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func wantValue(t testing.TB, s store.Store, ns, key, want string) {
	t.Helper()
	err := s.View(t.Context(), func(tx store.Tx) error {
		v, err := tx.Get(ns, key)
		if err != nil {
			return err
		}
		if string(v) != want {
			return fmt.Errorf("%q = %q, want %q", key, v, want)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
}

func TestRegistered(t *testing.T) {
	if !slices.Contains(store.Drivers(), postgres.Name) {
		t.Fatalf("store.Drivers() = %q, want it to contain %q", store.Drivers(), postgres.Name)
	}
	s, err := store.Open(t.Context(), "postgres", pgtest.DSN(t))
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	defer s.Close()
	info, ok := pdk.InfoOf(s)
	if !ok || info.Name != "postgres" || !strings.Contains(info.Version, "PostgreSQL") || !info.Caps.Durable || !info.Caps.ConcurrentReaders {
		t.Fatalf("InfoOf = %+v, %v", info, ok)
	}
	t.Logf("driver version %s", info.Version)
}

// TestDSNTable names the table through the DSN's dockyard_table parameter, in both DSN forms:
// the parameter is not sent to the server, and the store lives in that table.
func TestDSNTable(t *testing.T) {
	dsn := pgtest.DSN(t)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	// The same server and schema in both forms, whichever form dsn has.
	user := url.User(cfg.User)
	if cfg.Password != "" {
		user = url.UserPassword(cfg.User, cfg.Password)
	}
	search := cfg.RuntimeParams["search_path"]
	u := (&url.URL{Scheme: "postgres", User: user, Host: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), Path: "/" + cfg.Database,
		RawQuery: url.Values{"sslmode": {"disable"}, "search_path": {search}, "dockyard_table": {"from_url"}}.Encode()}).String()
	kv := fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable search_path=%s dockyard_table=from_kv",
		cfg.Host, cfg.Port, cfg.User, cfg.Database, search)
	if cfg.Password != "" {
		kv += " password='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(cfg.Password) + "'"
	}
	for _, c := range []struct{ dsn, table string }{
		{kv, "from_kv"},
		{u, "from_url"},
		{dsn, postgres.DefaultTable},
	} {
		s, err := store.Open(t.Context(), "postgres", c.dsn)
		if err != nil {
			t.Fatalf("store.Open(%q): %v", c.dsn, err)
		}
		mustUpdate(t, s, func(tx store.Tx) error { return tx.Put("ns", "k", []byte(c.table)) })
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		var v []byte
		q := `SELECT v FROM ` + pgx.Identifier{c.table}.Sanitize() + ` WHERE ns = 'ns'::bytea AND k = 'k'::bytea`
		if err := sqlConn(t, dsn).QueryRow(t.Context(), q).Scan(&v); err != nil || string(v) != c.table {
			t.Fatalf("%s: read back %q, %v; want %q", c.table, v, err, c.table)
		}
	}
	// The option and the DSN may agree, not differ.
	same, err := pgtest.WithParam(dsn, postgres.TableParam, "same")
	if err != nil {
		t.Fatal(err)
	}
	_ = openT(t, same, postgres.WithTable("same")).Close()
	if s, err := postgres.Open(t.Context(), same, postgres.WithTable("two")); err == nil {
		_ = s.Close()
		t.Fatalf("Open with two different table names succeeded")
	} else {
		t.Logf("two tables: %v", err)
	}
}

func TestBadTableNames(t *testing.T) {
	dsn := pgtest.DSN(t)
	for _, name := range []string{"", "Upper", "1abc", "a-b", "a b", `a"b`, "a;drop", strings.Repeat("x", 59), "é"} {
		s, err := postgres.Open(t.Context(), dsn, postgres.WithTable(name))
		if err == nil {
			_ = s.Close()
			t.Errorf("WithTable(%q) opened", name)
			continue
		}
		if !strings.Contains(err.Error(), "table name") {
			t.Errorf("WithTable(%q): %v; want it to say what is wrong with the table name", name, err)
		}
	}
	s, err := postgres.Open(t.Context(), strings.Replace(dsn, "search_path=", "dockyard_table='' search_path=", 1))
	if strings.Contains(dsn, "://") {
		s, err = postgres.Open(t.Context(), dsn+"&dockyard_table=")
	}
	if err == nil {
		_ = s.Close()
		t.Errorf("an empty dockyard_table opened")
	}
	openT(t, dsn, postgres.WithTable(strings.Repeat("x", 58)))
}

func TestBadDSN(t *testing.T) {
	for _, dsn := range []string{"postgres://%zz", "host=127.0.0.1 port=notaport", "postgres://u:secretpw@127.0.0.1:1/db?connect_timeout=5"} {
		s, err := postgres.Open(t.Context(), dsn)
		if err == nil {
			_ = s.Close()
			t.Errorf("Open(%q) succeeded", dsn)
			continue
		}
		if strings.Contains(err.Error(), "secretpw") {
			t.Errorf("Open(%q): the error shows the password: %v", dsn, err)
		}
		t.Logf("Open(%q): %v", dsn, err)
	}
}

// TestNewerSchemaRefused: a store whose meta table records a newer schema version is refused
// at Open, and an open store's next Update fails instead of writing into it.
func TestNewerSchemaRefused(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := openT(t, dsn, postgres.WithTable("newer"))
	mustUpdate(t, s, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v")) })
	// A write-only Update sends its writes and COMMIT in the lock's pipeline: the check on the
	// server must stop them. So must it when the Update reads first, and when the meta row is
	// gone.
	writeOnly := func(tx store.Tx) error { return tx.Put("ns", "k", []byte("new")) }
	readFirst := func(tx store.Tx) error {
		if _, err := tx.Get("ns", "k"); err != nil {
			return err
		}
		return tx.Put("ns", "k", []byte("new"))
	}
	for _, c := range []struct {
		alter, want string
	}{
		{`UPDATE newer_meta SET version = 99`, "schema version 99, want 1"},
		{`DELETE FROM newer_meta`, "schema version missing (no meta row), want 1"},
	} {
		if _, err := sqlConn(t, dsn).Exec(t.Context(), c.alter); err != nil {
			t.Fatal(err)
		}
		for _, fn := range []func(store.Tx) error{writeOnly, readFirst} {
			err := s.Update(t.Context(), fn)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "not version 1 any more") {
				t.Fatalf("Update after %s: %v; want it refused with %q", c.alter, err, c.want)
			}
			t.Logf("Update after %s: %v", c.alter, err)
			wantValue(t, s, "ns", "k", "v")
		}
	}
	if _, err := sqlConn(t, dsn).Exec(t.Context(), `INSERT INTO newer_meta VALUES (1, 99)`); err != nil {
		t.Fatal(err)
	}
	s2, err := postgres.Open(t.Context(), dsn, postgres.WithTable("newer"))
	if err == nil {
		_ = s2.Close()
		t.Fatalf("Open of a store with schema version 99 succeeded")
	}
	if !strings.Contains(err.Error(), "schema version 99") || !strings.Contains(err.Error(), `"newer"`) {
		t.Fatalf("Open error %q: want it to name the table and schema version 99", err)
	}
}

// TestForeignTableRefused: an existing table of the store's name that is not a Dockyard store
// is refused and left alone.
func TestForeignTableRefused(t *testing.T) {
	dsn := pgtest.DSN(t)
	c := sqlConn(t, dsn)
	if _, err := c.Exec(t.Context(), `CREATE TABLE other (id int); INSERT INTO other VALUES (7)`); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(t.Context(), dsn, postgres.WithTable("other"))
	if err == nil {
		_ = s.Close()
		t.Fatalf("Open of another application's table succeeded")
	}
	if !strings.Contains(err.Error(), "not a Dockyard store") {
		t.Fatalf("Open error %q: want it to say the table is not a Dockyard store", err)
	}
	var n int
	if err := c.QueryRow(t.Context(), `SELECT id FROM other`).Scan(&n); err != nil || n != 7 {
		t.Fatalf("the foreign table was changed: %d, %v", n, err)
	}
	// The failed attempt left the meta table at version 0; a later Open still refuses.
	if s, err := postgres.Open(t.Context(), dsn, postgres.WithTable("other")); err == nil {
		_ = s.Close()
		t.Fatalf("second Open of another application's table succeeded")
	}
}

// TestTablesApart: two stores in one schema, in different tables, do not see each other, and
// their writers do not wait for each other.
func TestTablesApart(t *testing.T) {
	dsn := pgtest.DSN(t)
	a := openT(t, dsn, postgres.WithTable("a"))
	b := openT(t, dsn, postgres.WithTable("b"))
	mustUpdate(t, a, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("a")) })
	inA := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- a.Update(t.Context(), func(tx store.Tx) error {
			if _, err := tx.Get("ns", "k"); err != nil { // holds a's lock
				return err
			}
			close(inA)
			<-release
			return nil
		})
	}()
	<-inA
	mustUpdate(t, b, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("b")) })
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	wantValue(t, a, "ns", "k", "a")
	wantValue(t, b, "ns", "k", "b")
}
