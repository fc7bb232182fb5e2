package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/drivers/postgres"
	"github.com/dockyard/dockyard/internal/pgtest"
	"github.com/dockyard/dockyard/store"
)

// TestPoolParamsRefused: pgxpool's pool_* DSN parameters are refused at Open, naming the
// parameter: the driver sizes its pools itself.
func TestPoolParamsRefused(t *testing.T) {
	for _, kv := range [][2]string{{"pool_max_conns", "3"}, {"pool_max_conn_lifetime", "1m"}} {
		dsn, err := pgtest.WithParam(pgtest.DSN(t), kv[0], kv[1])
		if err != nil {
			t.Fatal(err)
		}
		s, err := postgres.Open(t.Context(), dsn)
		if err == nil {
			_ = s.Close()
			t.Fatalf("Open with %s=%s succeeded", kv[0], kv[1])
		}
		if !strings.Contains(err.Error(), kv[0]) {
			t.Fatalf("Open with %s=%s: %v; want it to name the parameter", kv[0], kv[1], err)
		}
	}
}

// TestPingWhileReadersBusy: Ping does not wait for a View that holds the only reader
// connection.
func TestPingWhileReadersBusy(t *testing.T) {
	s := openT(t, pgtest.DSN(t), postgres.WithReadConns(1))
	mustUpdate(t, s, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v")) })
	inView := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.View(t.Context(), func(tx store.Tx) error {
			if _, err := tx.Get("ns", "k"); err != nil {
				return err
			}
			close(inView)
			<-release
			return nil
		})
	}()
	<-inView
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err := s.Ping(ctx)
	close(release)
	if err != nil {
		t.Fatalf("Ping while the only reader connection is in a View: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
