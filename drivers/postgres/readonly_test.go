package postgres_test

import (
	"testing"

	"github.com/dockyard/dockyard/drivers/postgres"
	"github.com/dockyard/dockyard/internal/pgtest"
	"github.com/dockyard/dockyard/storetest"
)

// TestReadOnly: a read-only open of a database without the store's table is ErrNoStore and
// creates no table; of a store, it reads and refuses writes.
func TestReadOnly(t *testing.T) {
	dsn := pgtest.DSN(t)
	missing, err := pgtest.WithParam(dsn, postgres.TableParam, "typo")
	if err != nil {
		t.Fatal(err)
	}
	storetest.ReadOnly(t, postgres.Name, missing, dsn)
	var n int
	q := `SELECT count(*) FROM pg_tables WHERE tablename LIKE 'typo%'`
	if err := sqlConn(t, dsn).QueryRow(t.Context(), q).Scan(&n); err != nil || n != 0 {
		t.Errorf("a read-only open of a missing store left %d tables (%v)", n, err)
	}
}
