//go:build unix

package pluginhost

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dockyard/dockyard/internal/etcdtest"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

// TestConformanceEtcd runs the suite against drivers/etcd built as a plugin binary
// (plugins/etcd), on the test cluster: every store is a key prefix of its own under the test's
// prefix (deleted when the test ends), and the plugin's sandbox lets it connect to the
// cluster's members only.
func TestConformanceEtcd(t *testing.T) {
	base := etcdtest.DSN(t)
	endpoints := etcdtest.Endpoints(t) // the cluster's members: the plugin may connect to nothing else
	bin := binary(t, "etcd")
	// The driver's default options (lock_ttl 10s): no case kills a process that holds the
	// writers' lock, so a shorter lease would only risk expiring under a loaded machine.
	var (
		seq  atomic.Int64
		dsns sync.Map // store.Store -> its DSN, for Reopen
	)
	open := func(ctx context.Context, dsn string) (store.Store, error) {
		s, err := Open(ctx, bin, dsn, quiet, WithConnect(endpoints...))
		if err == nil {
			dsns.Store(s, dsn)
		}
		return s, err
	}
	storetest.Run(t, storetest.Harness{
		Open: func(ctx context.Context, t storetest.T) (store.Store, error) {
			return open(ctx, fmt.Sprintf("%s/s%d", base, seq.Add(1)))
		},
		Reopen: func(ctx context.Context, t storetest.T, s store.Store) (store.Store, error) {
			dsn, ok := dsns.Load(s)
			if !ok {
				return nil, fmt.Errorf("Reopen of a store this harness did not open")
			}
			return open(ctx, dsn.(string))
		},
		Caps: storetest.Capabilities{Durable: true, ConcurrentReaders: true},
	})
}
