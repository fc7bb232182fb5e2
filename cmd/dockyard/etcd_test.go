package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/dockyard/dockyard/drivers/etcd"
	"github.com/dockyard/dockyard/internal/etcdtest"
)

// etcdKeys counts the keys of the test cluster that start with prefix.
func etcdKeys(t *testing.T, prefix string) int64 {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: etcdtest.Endpoints(t), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatalf("count the keys under %q: %v", prefix, err)
	}
	return r.Count
}

// etcdPrefix returns the key prefix of an etcd DSN (etcdtest's have neither user nor parameters).
func etcdPrefix(t *testing.T, dsn string) string {
	t.Helper()
	d, err := etcd.ParseDSN(dsn)
	if err != nil || d.Prefix == "" {
		t.Fatalf("DSN %q: prefix %q, %v", dsn, d.Prefix, err)
	}
	return d.Prefix
}

// conformCases are the cases conform runs on a server here: a store's life (Durability reopens
// one), paging through a scan, stores side by side, and migrations.
const conformCases = "^(UpdateCommits|ScanOfManyPages|Durability|StoresAreIndependent|MigrateAppliesInOrderOnce)$"

func TestEtcd(t *testing.T) {
	dsn := etcdtest.DSN(t)
	prefix := etcdPrefix(t, dsn)

	// drivers opens read-only: without a store at the prefix it shows no capabilities and
	// writes no key; with one, it shows them.
	r := mustRun(t, exitOK, "", "drivers", "--json", "--dsn", "etcd="+dsn+"/probe")
	if !strings.Contains(r.stdout, "no store there") {
		t.Errorf("drivers --dsn etcd=... without a store does not say so:\n%s", r.stdout)
	}
	mustRun(t, exitOK, "", "put", "--store", "etcd:"+dsn+"/probe", "ns", "k", "v")
	r = mustRun(t, exitOK, "", "drivers", "--json", "--dsn", "etcd="+dsn+"/probe")
	var ds driversJSON
	decodeJSON(t, r.stdout, &ds)
	found := false
	for _, d := range ds.Drivers {
		if d.Name == "etcd" {
			found = true
			if d.Transport != transportInProcess || d.Version == "" || d.Caps == nil || !d.Caps.Durable || !d.Caps.ConcurrentReaders || d.Note != "" {
				t.Errorf("drivers --dsn etcd=...: %+v (%+v)", d, d.Caps)
			}
		}
	}
	if !found {
		t.Errorf("drivers does not list etcd:\n%s", r.stdout)
	}

	// conform gives every store a key prefix of its own under the DSN's, and deletes them.
	r = mustRun(t, exitOK, "", "conform", "--json", "--dsn", dsn, "--run", conformCases, "etcd")
	var out conformJSON
	decodeJSON(t, r.stdout, &out)
	if out.Passed != 5 || out.Failed != 0 || !out.Caps.Durable || !out.Caps.ConcurrentReaders || out.Transport != transportInProcess {
		t.Errorf("conform etcd: %+v", out)
	}
	if n := etcdKeys(t, prefix+"/dockyard_conform_"); n != 0 {
		t.Errorf("conform left %d keys under %s/dockyard_conform_", n, prefix)
	}
	if n := etcdKeys(t, "dockyard_conform_"); n != 0 {
		t.Errorf("conform left %d keys at the top of the key space, outside the DSN's prefix", n)
	}

	// copy sqlite -> etcd -> sqlite, binary keys and a 70 kB value among them.
	src := filepath.Join(t.TempDir(), "src.db")
	back := filepath.Join(t.TempDir(), "back.db")
	data := copyFixture()
	fill(t, "sqlite", src, data)
	to := dsn + "/copied"
	if sum := copySummary(t, exitOK, "--from", "sqlite:"+src, "--to", "etcd:"+to, "--batch", "10"); !sum.OK || sum.Written != sum.Keys {
		t.Errorf("copy to etcd: %+v", sum)
	}
	sameContents(t, "etcd after the copy", contents(t, "etcd", to), data)
	if sum := copySummary(t, exitOK, "--from", "etcd:"+to, "--to", "sqlite:"+back); !sum.OK {
		t.Errorf("copy from etcd: %+v", sum)
	}
	sameContents(t, "sqlite after a round trip through etcd", contents(t, "sqlite", back), data)
}

// TestConformServerDSN: conform tells the server by the DSN's form, and refuses a --dsn of
// neither form, or one given for a driver that keeps its stores in files.
func TestConformServerDSN(t *testing.T) {
	for _, c := range []struct {
		dsn  string
		want serverKind
	}{
		{"etcd://127.0.0.1:2379", serverEtcd},
		{"etcd://u:p@h1:2379,h2:2379/app?lock_ttl=2s", serverEtcd},
		{"postgres://u:p@h/db", serverPostgres},
		{"postgresql://h/db", serverPostgres},
		{"host=h dbname=db", serverPostgres},
	} {
		if got, err := serverKindOf(c.dsn); err != nil || got != c.want {
			t.Errorf("serverKindOf(%q) = %q, %v; want %q", c.dsn, got, err, c.want)
		}
	}
	r := mustRun(t, exitUsage, "", "conform", "--dsn", "redis://u:s3cret@h:6379", "etcd")
	if !strings.Contains(r.stderr, "etcd://host:port") || strings.Contains(r.stderr, "s3cret") {
		t.Errorf("conform --dsn redis://...: %s", r.stderr)
	}
	r = mustRun(t, exitUsage, "", "conform", "--dsn", "etcd://127.0.0.1", "etcd")
	if !strings.Contains(r.stderr, `endpoint "127.0.0.1": want host:port`) {
		t.Errorf("conform --dsn etcd://127.0.0.1: %s", r.stderr)
	}
	r = mustRun(t, exitUsage, "", "conform", "etcd")
	if !strings.Contains(r.stderr, "needs --dsn") {
		t.Errorf("conform etcd without --dsn: %s", r.stderr)
	}
	r = mustRun(t, exitUsage, "", "conform", "--dsn", "etcd://127.0.0.1:2379", "sqlite")
	if !strings.Contains(r.stderr, "--dsn is for drivers whose DSN names a server") {
		t.Errorf("conform sqlite --dsn: %s", r.stderr)
	}
}

// TestEtcdDSNUnder: a store's DSN is the user's with a prefix under the user's prefix, the
// endpoints, user and parameters kept.
func TestEtcdDSNUnder(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"etcd://h:1", "etcd://h:1/s"},
		{"etcd://h:1/", "etcd://h:1/s"},
		{"etcd://h:1,h:2/a/b/", "etcd://h:1,h:2/a/b/s"},
		{"etcd://u:p@h:1/a%2Fb?lock_ttl=2s", "etcd://u:p@h:1/a/b/s?lock_ttl=2s"},
	} {
		got, err := etcdStoreDSN(c.in, "s")
		if err != nil {
			t.Errorf("etcdStoreDSN(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("%q under s = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestOpenErrorHidesPassword: a store that fails to open is named in the error with its
// password masked, in either form a DSN carries one.
func TestOpenErrorHidesPassword(t *testing.T) {
	for _, store := range []string{
		"etcd:etcd://u:s3cret@127.0.0.1:1/demo?dial_timeout=1s",
		"postgres:host=127.0.0.1 port=1 user=u password=s3cret connect_timeout=1",
	} {
		r := mustRun(t, exitFailed, "", "get", "--store", store, "ns", "k")
		if strings.Contains(r.stderr, "s3cret") || !strings.Contains(r.stderr, "xxxxx") {
			t.Errorf("get --store %q: stderr shows the password, or no mask:\n%s", store, r.stderr)
		}
	}
}
