package postgres_test

import (
	"strings"
	"testing"

	"github.com/dockyard/dockyard/drivers/postgres"
)

// TestInvalidOptions: an invalid option value is an error naming the option, found before any
// connection is made.
func TestInvalidOptions(t *testing.T) {
	_, err := postgres.Open(t.Context(), "postgres://nobody@127.0.0.1:1/none", postgres.WithReadConns(0))
	if err == nil || !strings.Contains(err.Error(), "read_conns 0") {
		t.Errorf("Open with read_conns 0: %v, want an error naming it", err)
	}
}
