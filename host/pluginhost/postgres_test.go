//go:build unix

package pluginhost

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dockyard/dockyard/drivers/postgres"
	"github.com/dockyard/dockyard/internal/pgtest"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

// TestConformancePostgres runs the suite against drivers/postgres built as a plugin binary
// (plugins/postgres), on the test server: every store is a table of its own in the test's
// schema, named through the DSN's dockyard_table parameter.
func TestConformancePostgres(t *testing.T) {
	base := pgtest.DSN(t)
	bin := binary(t, "postgres")
	pc, err := pgconn.ParseConfig(base)
	if err != nil {
		t.Fatal(err)
	}
	// The server's: the plugin may connect to nothing else.
	endpoint := net.JoinHostPort(pc.Host, strconv.Itoa(int(pc.Port)))
	var (
		seq  atomic.Int64
		dsns sync.Map // store.Store -> its DSN, for Reopen
	)
	storetest.Run(t, storetest.Harness{
		Open: func(ctx context.Context, t storetest.T) (store.Store, error) {
			dsn, err := pgtest.WithParam(base, postgres.TableParam, fmt.Sprintf("store_%d", seq.Add(1)))
			if err != nil {
				return nil, err
			}
			s, err := Open(ctx, bin, dsn, quiet, WithConnect(endpoint))
			if err == nil {
				dsns.Store(s, dsn)
			}
			return s, err
		},
		Reopen: func(ctx context.Context, t storetest.T, s store.Store) (store.Store, error) {
			dsn, _ := dsns.Load(s)
			s2, err := Open(ctx, bin, dsn.(string), quiet, WithConnect(endpoint))
			if err == nil {
				dsns.Store(s2, dsn)
			}
			return s2, err
		},
		Caps: storetest.Capabilities{Durable: true, ConcurrentReaders: true},
	})
}
