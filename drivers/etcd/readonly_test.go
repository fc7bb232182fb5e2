package etcd_test

import (
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/dockyard/dockyard/drivers/etcd"
	"github.com/dockyard/dockyard/internal/etcdtest"
	"github.com/dockyard/dockyard/storetest"
)

// TestReadOnly: a read-only open of a prefix without a store is ErrNoStore and writes no key;
// of a store, it reads and refuses writes.
func TestReadOnly(t *testing.T) {
	base := etcdtest.DSN(t)
	storetest.ReadOnly(t, etcd.Name, base+"/typo", base+"/app")
	cli, prefix := plainClient(t, base)
	r, err := cli.Get(t.Context(), prefix+"/typo/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil || r.Count != 0 {
		t.Fatalf("keys under the missing store's prefix: %v, %v; want none", r, err)
	}
}
