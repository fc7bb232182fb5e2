package postgres_test

import (
	"testing"

	"github.com/dockyard/dockyard/internal/pgtest"
)

// TestServerRestart stops the server (a crash-like immediate shutdown, then a fast one) under a
// client that keeps incrementing a counter: while the server is down, Updates, Views and Pings
// fail with errors that say what failed; once it is back they work again, on the same store
// value, and every Update that returned nil is in the counter (one whose commit outcome was
// reported unknown may or may not be).
func TestServerRestart(t *testing.T) {
	srv := pgtest.NewServer(t)
	pgtest.RestartUnderWriter(t, srv, openT(t, srv.DSN()+" dockyard_table=restart"), "restart", true)
}
