//go:build unix

package pgtest

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dockyard/dockyard/internal/testproc"
)

func TestMain(m *testing.M) { Main(m) }

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect %q: %v", dsn, err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// TestDSN: each DSN is a schema of its own, empty, first on the search path, and dropped when
// its test ends.
func TestDSN(t *testing.T) {
	var schemas []string
	for i := range 2 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			conn := connect(t, DSN(t))
			var schema string
			var tables int
			if err := conn.QueryRow(t.Context(), `SELECT current_schema(), (SELECT count(*) FROM pg_tables WHERE schemaname = current_schema())`).Scan(&schema, &tables); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(schema, SchemaPrefix) || tables != 0 {
				t.Fatalf("current schema %q with %d tables; want a new, empty %s* schema", schema, tables, SchemaPrefix)
			}
			if _, err := conn.Exec(t.Context(), `CREATE TABLE t (x int)`); err != nil {
				t.Fatal(err)
			}
			schemas = append(schemas, schema)
		})
	}
	if len(schemas) != 2 || schemas[0] == schemas[1] {
		t.Fatalf("schemas %q: want two distinct ones", schemas)
	}
	base, err := baseDSN()
	if err != nil {
		t.Fatal(err)
	}
	conn := connect(t, base)
	var left int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_namespace WHERE nspname = ANY($1)`, schemas).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d of the schemas %q outlived their tests", left, schemas)
	}
}

func TestWithParam(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"host=h port=1", "host=h port=1 search_path=s_1"},
		{"postgres://u@h:1/db", "postgres://u@h:1/db?search_path=s_1"},
		{"postgresql://u@h/db?sslmode=disable", "postgresql://u@h/db?search_path=s_1&sslmode=disable"},
	} {
		got, err := WithParam(c.in, "search_path", "s_1")
		if err != nil || got != c.want {
			t.Errorf("WithParam(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := WithParam("host=h", "search_path", "a b"); err == nil {
		t.Errorf("WithParam with a space in the value succeeded")
	}
}

// TestRestart stops a private server, immediately and fast, and starts it again: the data
// committed before is there, on the same port.
func TestRestart(t *testing.T) {
	s := NewServer(t)
	ctx := t.Context()
	conn := connect(t, s.DSN())
	if _, err := conn.Exec(ctx, `CREATE TABLE r (x int); INSERT INTO r VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	for _, immediate := range []bool{true, false} {
		pid := s.PID()
		if err := s.Stop(immediate); err != nil {
			t.Fatalf("Stop(%v): %v", immediate, err)
		}
		testproc.WaitGone(t, pid)
		if _, err := pgx.Connect(ctx, s.DSN()); err == nil {
			t.Fatalf("connected to a stopped server")
		}
		if err := s.Resume(); err != nil {
			t.Fatalf("Resume: %v", err)
		}
		c := connect(t, s.DSN())
		if _, err := c.Exec(ctx, `INSERT INTO r VALUES (1)`); err != nil {
			t.Fatal(err)
		}
	}
	c := connect(t, s.DSN())
	var n int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM r`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("after two restarts: %d rows, %v; want 3", n, err)
	}
}

// TestClose: Close leaves no process and no directory.
func TestClose(t *testing.T) {
	s, err := Start()
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			NewServer(t) // ends t through testenv.Unavailable
		}
		t.Fatal(err)
	}
	pid, dir := s.PID(), s.Dir()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	testproc.WaitGone(t, pid)
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s still exists after Close (%v)", dir, err)
	}
}

// TestNoOrphan: a server dies with the test process that started it, killed with SIGKILL (the
// parent-death signal), and the next server started removes the dead one's directory.
func TestNoOrphan(t *testing.T) {
	// Whether a server can be had, without starting one: the child runs this test too.
	_, err := findBinaries()
	if err == nil {
		_, err = serverUser()
	}
	if err != nil {
		NewServer(t) // ends t through testenv.Unavailable
	}
	testproc.CheckOrphan(t, func() (int, string, error) {
		s, err := Start()
		if err != nil {
			return 0, "", err
		}
		return s.PID(), s.Dir(), nil
	}, removeStaleDirs)
}
