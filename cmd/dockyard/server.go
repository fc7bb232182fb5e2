package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// serverStores makes fresh stores on a database server for conform: the postgres driver keeps a
// store in one table, named by the DSN's dockyard_table parameter, so every store conform opens
// gets a table of its own on the server the user's DSN names, and drop removes them all
// afterwards.
type serverStores struct {
	dsn    string // the user's DSN
	prefix string // of the table names: unique to this run

	mu     sync.Mutex
	tables []string
}

func newServerStores(dsn string) *serverStores {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &serverStores{dsn: dsn, prefix: "dockyard_conform_" + hex.EncodeToString(b[:]) + "_"}
}

// next returns the DSN of a new store: the user's DSN naming a new table.
func (s *serverStores) next() (string, error) {
	s.mu.Lock()
	table := fmt.Sprintf("%s%d", s.prefix, len(s.tables))
	s.tables = append(s.tables, table)
	s.mu.Unlock()
	return withParam(s.dsn, "dockyard_table", table)
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

// drop drops every table the stores were given (and the driver's companion <table>_meta).
func (s *serverStores) drop(ctx context.Context) error {
	s.mu.Lock()
	tables := append([]string(nil), s.tables...)
	s.mu.Unlock()
	if len(tables) == 0 {
		return nil
	}
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return fmt.Errorf("connect to drop the conformance tables: %w", err)
	}
	defer conn.Close(context.Background())
	var idents []string
	for _, t := range tables {
		idents = append(idents, pgx.Identifier{t}.Sanitize(), pgx.Identifier{t + "_meta"}.Sanitize())
	}
	if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+strings.Join(idents, ", ")); err != nil {
		return fmt.Errorf("drop the conformance tables %s*: %w", s.prefix, err)
	}
	return nil
}
