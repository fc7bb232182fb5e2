package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/dockyard/dockyard/drivers/etcd"
	"github.com/dockyard/dockyard/drivers/postgres"
	"github.com/dockyard/dockyard/pdk"
)

// serverKind is the kind of server a conform --dsn names, told by the DSN's form (not by the
// driver's name, so that an artifact of a server driver is checked like the compiled-in one).
type serverKind string

const (
	// serverPostgres: a PostgreSQL server, as drivers/postgres takes it: a postgres:// or
	// postgresql:// URL, or a key=value connection string. A store is a table.
	serverPostgres serverKind = "postgres"
	// serverEtcd: an etcd cluster, as drivers/etcd takes it: etcd://host:port[,host:port...]
	// [/prefix][?params]. A store is a key prefix.
	serverEtcd serverKind = "etcd"
)

// serverKindOf tells the kind of server dsn names.
func serverKindOf(dsn string) (serverKind, error) {
	switch {
	case strings.HasPrefix(dsn, "etcd://"):
		return serverEtcd, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return serverPostgres, nil
	case !strings.Contains(dsn, "://") && strings.Contains(dsn, "="):
		return serverPostgres, nil // key=value
	}
	return "", usagef("--dsn %q: conform makes fresh stores on a PostgreSQL server (a postgres:// URL or a key=value connection string: a table per store) or an etcd cluster (etcd://host:port[,host:port...][/prefix]: a key prefix per store) only", pdk.RedactDSN(dsn))
}

// serverStores makes fresh stores on a database server for conform, each one named under a
// prefix unique to this run, and drop removes them all afterwards:
//
//   - postgres: the driver keeps a store in one table, named by the DSN's dockyard_table
//     parameter, so every store gets a table of its own on the server the user's DSN names;
//   - etcd: the driver keeps a store under one key prefix, the DSN's path, so every store gets
//     a prefix of its own under the user's DSN's prefix (at the top of the key space when the
//     DSN names none), and drop deletes every key under this run's prefixes.
type serverStores struct {
	kind   serverKind
	dsn    string // the user's DSN
	prefix string // of the tables' names, or of the key prefixes' last element: unique to this run

	mu sync.Mutex
	n  int // stores made
}

func newServerStores(dsn string) (*serverStores, error) {
	kind, err := serverKindOf(dsn)
	if err != nil {
		return nil, err
	}
	if kind == serverEtcd {
		if _, err := etcd.ParseDSN(dsn); err != nil {
			return nil, usagef("--dsn: %v", err)
		}
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &serverStores{kind: kind, dsn: dsn, prefix: "dockyard_conform_" + hex.EncodeToString(b[:]) + "_"}, nil
}

// run is the key prefix, under the user's, of this run's etcd stores.
func (s *serverStores) run() string { return strings.TrimSuffix(s.prefix, "_") }

// what names the stores made, for messages: "tables dockyard_conform_…_*".
func (s *serverStores) what() string {
	if s.kind == serverEtcd {
		return "key prefixes " + s.run() + "/*"
	}
	return "tables " + s.prefix + "*"
}

// next returns the DSN of a new store: the user's DSN naming a new table or key prefix.
func (s *serverStores) next() (string, error) {
	s.mu.Lock()
	n := s.n
	s.n++
	s.mu.Unlock()
	name := s.prefix + strconv.Itoa(n)
	if s.kind == serverEtcd {
		// Nested under one prefix of the run's, which drop deletes whole.
		return etcdStoreDSN(s.dsn, path.Join(s.run(), strconv.Itoa(n)))
	}
	return withParam(s.dsn, postgres.TableParam, name)
}

// drop removes every store made.
func (s *serverStores) drop(ctx context.Context) error {
	s.mu.Lock()
	n := s.n
	s.mu.Unlock()
	if n == 0 {
		return nil
	}
	if s.kind == serverEtcd {
		return s.dropEtcd(ctx)
	}
	return s.dropPostgres(ctx, n)
}

// withParam adds the connection parameter key=value to a PostgreSQL DSN, in its URL or its
// key=value form.
func withParam(dsn, key, value string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("--dsn: %w", err)
		}
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return strings.TrimSpace(dsn + " " + key + "=" + value), nil
}

// dropPostgres drops the n tables the stores were given (and the driver's companion
// <table>_meta).
func (s *serverStores) dropPostgres(ctx context.Context, n int) error {
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return fmt.Errorf("connect to drop the conformance tables: %w", err)
	}
	defer conn.Close(context.Background())
	var idents []string
	for i := range n {
		t := s.prefix + strconv.Itoa(i)
		idents = append(idents, pgx.Identifier{t}.Sanitize(), pgx.Identifier{t + "_meta"}.Sanitize())
	}
	if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+strings.Join(idents, ", ")); err != nil {
		return fmt.Errorf("drop the conformance tables %s*: %w", s.prefix, err)
	}
	return nil
}

// etcdStoreDSN returns the DSN of the store whose key prefix is name under dsn's prefix (at
// the top of the key space when dsn names none).
func etcdStoreDSN(dsn, name string) (string, error) {
	d, err := etcd.ParseDSN(dsn)
	if err != nil {
		return "", usagef("--dsn: %v", err)
	}
	d.Prefix = path.Join(d.Prefix, name)
	return d.String(), nil
}

// dropEtcd deletes every store made: they are nested under one prefix of this run (next).
func (s *serverStores) dropEtcd(ctx context.Context) error {
	parent, err := etcdStoreDSN(s.dsn, s.run())
	if err != nil {
		return err
	}
	if err := etcd.Drop(ctx, parent); err != nil {
		return fmt.Errorf("delete the conformance stores: %w", err)
	}
	return nil
}
