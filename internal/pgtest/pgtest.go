// Package pgtest gives tests a real PostgreSQL server: no mock database.
//
// DSN(t) returns the connection string of a fresh, empty schema that is dropped when t ends, so
// every test (and every test binary running beside it) has a namespace of its own. The server
// behind it is, in order of preference:
//
//  1. the one named by the environment variable DOCKYARD_TEST_POSTGRES, a PostgreSQL connection
//     string (URL or key=value form) whose user may create schemas. The server is used as it
//     is, never started or stopped here.
//  2. a throwaway server started once per test process, on first use: initdb into a new
//     temporary directory, postgres listening on a free loopback TCP port (127.0.0.1 only; its
//     Unix socket in the temporary directory), stopped and its directory removed by Shutdown
//     (Main calls it after the tests). The binaries (initdb, postgres) are looked for in PATH,
//     then in /usr/lib/postgresql/*/bin (Debian's layout, newest version first). PostgreSQL
//     refuses to run as root, so when the tests run as root the binaries run as the
//     unprivileged "postgres" system user (which Debian's postgresql package creates), and the
//     temporary directory is given to that user.
//
// When neither is possible (no binaries, or root without a postgres user) the test ends
// through testenv.Unavailable: a loud skip locally, a failure under CI=true. `make pgtools`
// installs the server on Debian.
//
// # The throwaway server
//
// It runs with fsync=off and full_page_writes=off, which make initdb and commits fast and lose
// nothing unless the machine itself crashes (the operating system still has every write the
// server made). A test that kills the server (Server.Stop with immediate set) therefore still
// sees every commit that was acknowledged, exactly as with a durable configuration; what is
// not tested here is a machine crash. synchronous_commit stays on: a commit is in the
// server's write-ahead log before it is acknowledged. Authentication is trust, for the
// loopback address and the socket directory only; the superuser is "postgres".
//
// No server outlives the test process: Shutdown stops it (fast shutdown, then immediate, then
// SIGKILL), and on Linux the server process is started with a parent-death signal (SIGQUIT,
// PostgreSQL's immediate shutdown), from a thread that lives as long as the server, so it
// stops when the test binary dies however it dies: a panic, a -timeout, SIGKILL. The
// directory of a server whose test process died that way is removed by the next test process
// that starts one (each live directory is held by a file lock, so only dead ones go).
//
// NewServer starts a private server that a test controls: it can stop it, with a fast or an
// immediate (crash-like) shutdown, and start it again on the same port and data, to test
// clients across a server restart.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dockyard/dockyard/internal/testenv"
	"github.com/dockyard/dockyard/internal/testproc"
)

// EnvDSN is the environment variable naming an existing server to test against.
const EnvDSN = "DOCKYARD_TEST_POSTGRES"

// SchemaPrefix starts the name of every schema DSN creates, so that schemas left behind on a
// shared server by a test process that died can be found and dropped.
const SchemaPrefix = "dockyard_test_"

// shared is the server of this test process, started by the first DSN call: the DSN of its
// postgres database, or that of EnvDSN.
var shared testproc.Shared[string]

// baseDSN returns the DSN of the server to use, starting the throwaway one on first use.
func baseDSN() (string, error) {
	return shared.Get(func() (string, func() error, error) {
		if env := os.Getenv(EnvDSN); env != "" {
			return env, nil, nil
		}
		srv, err := Start()
		if err != nil {
			return "", nil, err
		}
		return srv.DSN(), srv.Close, nil
	})
}

// Main runs the tests of m, stops the throwaway server if one was started, and exits with the
// tests' status. Call it from TestMain.
func Main(m *testing.M) { testproc.Main(m, Shutdown) }

// Shutdown stops the throwaway server of this process, if one was started, and removes its
// directory. A TestMain that does more than Main calls it after m.Run. DSN may not be called
// afterwards.
func Shutdown() {
	if err := shared.Close(errors.New("pgtest: DSN called after Shutdown")); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
	}
}

// Available reports why no server can be had, or nil when one can. It starts the throwaway
// server if needed.
func Available() error {
	_, err := baseDSN()
	return err
}

// DSN returns the connection string of a new, empty schema on the test server: its search_path
// is that schema alone, so every unqualified table a test creates lands there. The schema is
// dropped (with everything in it) when t ends. Without a server, t ends through
// testenv.Unavailable.
func DSN(t testing.TB) string {
	t.Helper()
	base, err := baseDSN()
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			testenv.Unavailable(t, "PostgreSQL server", err.Error())
		}
		t.Fatalf("pgtest: %v", err)
	}
	dsn, drop, err := NewSchema(context.Background(), base)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return dsn
}

var schemaSeq atomic.Uint64

// NewSchema creates a new, empty schema on the server of base and returns base with
// search_path set to it, and a function that drops it.
func NewSchema(ctx context.Context, base string) (dsn string, drop func() error, err error) {
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	name := fmt.Sprintf("%s%d_%d_%s", SchemaPrefix, os.Getpid(), schemaSeq.Add(1), hex.EncodeToString(rnd[:]))
	if err := execSQL(ctx, base, `CREATE SCHEMA `+name); err != nil {
		return "", nil, fmt.Errorf("create schema %s: %w", name, err)
	}
	drop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// A lock timeout, so that a connection left in a transaction on the schema makes this
		// fail with a message rather than hang.
		if err := execSQL(ctx, base, `SET lock_timeout = '30s'`, `DROP SCHEMA `+name+` CASCADE`); err != nil {
			return fmt.Errorf("drop schema %s: %w", name, err)
		}
		return nil
	}
	dsn, err = WithParam(base, "search_path", name)
	if err != nil {
		_ = drop()
		return "", nil, err
	}
	return dsn, drop, nil
}

// execSQL runs statements, in order, on one new connection to dsn.
func execSQL(ctx context.Context, dsn string, stmts ...string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connect to the test server: %w", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	for _, q := range stmts {
		if _, err := conn.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// WithParam returns dsn, a connection string in URL or key=value form, with the parameter key
// set to value (appended; a later setting wins in both forms). value must not need quoting:
// letters, digits, '_', '-' and '.' only.
func WithParam(dsn, key, value string) (string, error) {
	for _, c := range key + value {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return "", fmt.Errorf("pgtest: parameter %s=%s: only letters, digits, _, - and . are supported", key, value)
		}
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("pgtest: parse %s: %w", EnvDSN, err)
		}
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return strings.TrimSpace(dsn) + " " + key + "=" + value, nil
}
