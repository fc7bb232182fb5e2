package bench

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/dockyard/dockyard/drivers/etcd"
	"github.com/dockyard/dockyard/internal/etcdtest"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// The etcd implementations, each under a fresh key prefix of the shared 3-member test cluster
// (internal/etcdtest: DOCKYARD_TEST_ETCD, or a throwaway cluster that TestMain stops): the etcd
// driver through the seam, and the same operations in plain clientv3 on the same key layout.
// Without etcd they end through testenv.Unavailable (a loud skip locally, a failure under
// CI=true).
const (
	implEtcd       = "etcd"
	implEtcdClient = "etcdclient"
)

// openEtcd opens the etcd driver, through store.Open and its DSN, under a fresh prefix.
func openEtcd(ctx context.Context, tb testing.TB) (*storeImpl, error) {
	s, err := store.Open(ctx, "etcd", etcdtest.DSN(tb))
	if err != nil {
		return nil, err
	}
	return &storeImpl{s: s}, nil
}

// etcdClientImpl is what an application would write with clientv3 alone: a linearizable Get, a
// Put, 100 Puts in one Txn, a range Get for a prefix, on the driver's key layout. It takes no
// lock and keeps no namespace catalog and no fence: those are the driver's, part of what the
// comparison measures.
type etcdClientImpl struct {
	cli *clientv3.Client
	nsp string // the data key prefix of namespace ns
}

func openEtcdClient(ctx context.Context, tb testing.TB) (*etcdClientImpl, error) {
	eps, prefix := splitEtcdDSN(etcdtest.DSN(tb))
	cli, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	return &etcdClientImpl{cli: cli, nsp: etcdDataPrefix(prefix, ns)}, nil
}

// splitEtcdDSN returns the endpoints and key prefix of an etcd DSN.
func splitEtcdDSN(dsn string) ([]string, string) {
	d, err := etcd.ParseDSN(dsn)
	if err != nil {
		panic(err) // etcdtest's DSNs parse
	}
	return d.Endpoints, d.Prefix
}

// etcdDataPrefix is the prefix of the data keys of namespace nsName in the store under prefix:
// the driver's layout (drivers/etcd, keys.go), P/d, the namespace's length in two big-endian
// bytes, the namespace.
func etcdDataPrefix(prefix, nsName string) string {
	return prefix + "/d" + string(binary.BigEndian.AppendUint16(nil, uint16(len(nsName)))) + nsName
}

func (im *etcdClientImpl) get(ctx context.Context, key string) ([]byte, error) {
	r, err := im.cli.Get(ctx, im.nsp+key)
	if err != nil {
		return nil, err
	}
	if len(r.Kvs) == 0 {
		return nil, errNotFound
	}
	return r.Kvs[0].Value, nil
}

func (im *etcdClientImpl) put(ctx context.Context, key string, value []byte) error {
	_, err := im.cli.Put(ctx, im.nsp+key, string(value))
	return err
}

// putMany puts each key once: etcd refuses a transaction that names a key twice, and the
// benchmark's random keys may repeat.
func (im *etcdClientImpl) putMany(ctx context.Context, keys []string, value []byte) error {
	ops := make([]clientv3.Op, 0, len(keys))
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			ops = append(ops, clientv3.OpPut(im.nsp+k, string(value)))
		}
	}
	_, err := im.cli.Txn(ctx).Then(ops...).Commit()
	return err
}

func (im *etcdClientImpl) scan(ctx context.Context, prefix string) ([]store.KeyValue, error) {
	end, _ := pdk.PrefixEnd(im.nsp + prefix)
	r, err := im.cli.Get(ctx, im.nsp+prefix, clientv3.WithRange(end))
	if err != nil {
		return nil, err
	}
	kvs := make([]store.KeyValue, len(r.Kvs))
	for i, kv := range r.Kvs {
		kvs[i] = store.KeyValue{Key: string(kv.Key[len(im.nsp):]), Value: kv.Value}
	}
	return kvs, nil
}

func (im *etcdClientImpl) load(ctx context.Context, l layout) error {
	ops := make([]clientv3.Op, l.n())
	for i := range ops {
		ops[i] = clientv3.OpPut(im.nsp+l.key(i), string(initialValue(i)))
	}
	_, err := im.cli.Txn(ctx).Then(ops...).Commit()
	return err
}

func (im *etcdClientImpl) close() error { return im.cli.Close() }

// TestEtcdClientReadsDriverKeys: the clientv3 baseline reads a store written by the etcd driver
// and finds the same data: it uses the driver's key layout, not merely a similar one.
func TestEtcdClientReadsDriverKeys(t *testing.T) {
	ctx := context.Background()
	l := layout{groups: 3, perGroup: 50}
	dsn := etcdtest.DSN(t)
	s, err := store.Open(ctx, "etcd", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := (&storeImpl{s: s}).load(ctx, l); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	eps, prefix := splitEtcdDSN(dsn)
	cli, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	im := &etcdClientImpl{cli: cli, nsp: etcdDataPrefix(prefix, ns)}
	defer func() { _ = im.close() }()
	initial := map[string][]byte{}
	for i := range l.n() {
		initial[l.key(i)] = initialValue(i)
	}
	for _, p := range []string{"g", "g00/", "g02/", "g01/00006"} {
		got, err := im.scan(ctx, p)
		if err != nil {
			t.Fatalf("scan %q: %v", p, err)
		}
		if want := modelScan(initial, p); !sameKVs(got, want) {
			t.Fatalf("scan %q: %d entries, want %d", p, len(got), len(want))
		}
	}
}
