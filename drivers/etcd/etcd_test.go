package etcd_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/dockyard/dockyard/drivers/etcd"
	"github.com/dockyard/dockyard/internal/etcdtest"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

func TestMain(m *testing.M) { etcdtest.Main(m) }

var storeSeq atomic.Uint64

// harness is storetest's harness over dsn's cluster: each store a prefix of its own under dsn's.
func harness(dsn string, opts ...etcd.Option) storetest.Harness {
	newDSN := func(t storetest.T) string {
		d, err := etcd.ParseDSN(dsn)
		if err != nil {
			t.Fatalf("the test's DSN: %v", err)
		}
		d.Prefix += fmt.Sprintf("/s%d", storeSeq.Add(1))
		return d.String()
	}
	open := func(ctx context.Context, dsn string) (store.Store, error) { return etcd.Open(ctx, dsn, opts...) }
	return storetest.ByDSN(storetest.Capabilities{Durable: true, ConcurrentReaders: true}, newDSN, open)
}

func TestConformance(t *testing.T) {
	storetest.Run(t, harness(etcdtest.DSN(t)))
}

// openT opens a store on dsn with opts, closed when t ends.
func openT(t testing.TB, dsn string, opts ...etcd.Option) store.Store {
	t.Helper()
	s, err := etcd.Open(t.Context(), dsn, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestDSNErrors(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"http://127.0.0.1:2379", "want etcd://host:port"},
		{"etcd://", `endpoint ""`},
		{"etcd://127.0.0.1", `endpoint "127.0.0.1": want host:port`},
		{"etcd://127.0.0.1:99999", "want host:port"},
		{"etcd://127.0.0.1:2379?lock_ttl=soon", "parameter lock_ttl"},
		{"etcd://127.0.0.1:2379?lock_ttl=1500ms", "option lock_ttl 1.5s: want whole seconds"},
		{"etcd://127.0.0.1:2379?color=blue", "parameter color"},
		{"etcd://127.0.0.1:2379?max_request_bytes=1000", "option max_request_bytes 1000"},
		{"etcd://u:s3cret@127.0.0.1:2379?color=blue", "u:xxxxx@"},
	} {
		_, err := etcd.Open(t.Context(), tc.dsn)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q) = %v, want an error containing %q", tc.dsn, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q): the error shows the password: %v", tc.dsn, err)
		}
	}
}

func TestUnreachable(t *testing.T) {
	// A port nothing listens on: Open fails within its dial timeout, naming the endpoint.
	// With a user too: the client then logs in while it connects.
	for _, dsn := range []string{"etcd://127.0.0.1:1/x?dial_timeout=1s", "etcd://u:s3cret@127.0.0.1:1/x?dial_timeout=1s"} {
		_, err := etcd.Open(t.Context(), dsn)
		if err == nil || !strings.Contains(err.Error(), "no answer from 127.0.0.1:1 within dial_timeout 1s") || strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("Open(%q) of an unreachable cluster = %v, want an error saying what to check", dsn, err)
		}
	}
}

func TestDSNRoundTrip(t *testing.T) {
	d, err := etcd.ParseDSN("etcd://app:p%40ss@h1:2379,h2:2380/apps/orders%20v2?lock_ttl=3s")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(d.Endpoints, ",") != "h1:2379,h2:2380" || d.Username != "app" || d.Password != "p@ss" ||
		d.Prefix != "apps/orders v2" || d.Params.Get("lock_ttl") != "3s" {
		t.Fatalf("ParseDSN: %+v", d)
	}
	back, err := etcd.ParseDSN(d.String())
	if err != nil || back.String() != d.String() || back.Prefix != d.Prefix || back.Password != d.Password {
		t.Fatalf("ParseDSN(%q) = %+v, %v; want %+v", d.String(), back, err, d)
	}
	if r := d.Redacted(); strings.Contains(r, "p%40ss") || !strings.Contains(r, "app:xxxxx@") {
		t.Fatalf("Redacted() = %q", r)
	}
}

// TestDrop deletes a store, and nothing of a store whose prefix only starts the same way.
func TestDrop(t *testing.T) {
	base := etcdtest.DSN(t)
	gone, kept := openT(t, base+"/x"), openT(t, base+"/xy")
	for _, s := range []store.Store{gone, kept} {
		mustUpdate(t, s, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v")) })
	}
	if err := gone.Close(); err != nil {
		t.Fatal(err)
	}
	if err := etcd.Drop(t.Context(), base+"/x"); err != nil {
		t.Fatal(err)
	}
	cli, prefix := plainClient(t, base)
	r, err := cli.Get(t.Context(), prefix+"/x/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil || r.Count != 0 {
		t.Fatalf("keys of the dropped store: %v, %v; want none", r, err)
	}
	if v := get(t, kept); v != "v" {
		t.Fatalf("the store beside it: k = %q, want v", v)
	}
}
