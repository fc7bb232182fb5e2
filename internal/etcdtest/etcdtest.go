// Package etcdtest gives tests a real etcd cluster: no mock key-value store, and no single
// member standing in for a cluster, because what a client of etcd has to get right (a leader
// that dies, a member that falls behind and catches up, a cluster without quorum) only happens
// with several members.
//
// DSN(t) returns "etcd://host:port,host:port,.../<prefix>": the client endpoints of a cluster
// and a key prefix of its own, unique to the call, under which every key ("<prefix>/...") is
// deleted when t ends, so every test (and every test binary running beside it) has a namespace
// of its own. The cluster behind it is, in order of preference:
//
//  1. the one named by the environment variable DOCKYARD_TEST_ETCD, comma-separated client
//     endpoints (host:port; a leading http:// is dropped; no TLS, no authentication). It is
//     used as it is, never started or stopped here.
//  2. a throwaway cluster of three members started once per test process, on first use, and
//     stopped, its directory removed, by Shutdown (Main calls it after the tests). The etcd
//     binary is the one named by DOCKYARD_ETCD_BIN (EnvBinary), else bin/etcd of the module
//     (which `make etcdtools` builds from etcd's Go module, tools/etcd), else etcd in PATH;
//     the members listen on free loopback ports (127.0.0.1, below the kernel's ephemeral
//     range), two per member.
//
// When neither is possible (no etcd binary) the test ends through testenv.Unavailable: a loud
// skip locally, a failure under CI=true. `make etcdtools` builds the server.
//
// NewCluster starts a private cluster that a test controls: it can kill a member (SIGKILL),
// stop it (SIGTERM), and start it again on the same ports and data, find the leader, and wait
// for the cluster to be healthy again, to test clients across failures of members and of the
// quorum.
//
// # The throwaway clusters
//
// Every member runs with ServerFlags. The data directories are in one directory per cluster,
// under /dev/shm when that has at least 2 GiB free, else under os.TempDir(). etcd syncs its
// write-ahead log before it acknowledges a write; on tmpfs that sync costs nothing and loses
// nothing unless the machine itself crashes (the operating system has every write the member
// made). A test that kills a member therefore still sees every write that was acknowledged,
// exactly as on a disk; what is not tested here is a machine crash.
//
// No member outlives the test process: Shutdown and Close kill the members (their data goes
// with the directory, so there is nothing to stop gracefully for), and on Linux every member
// is started with a parent-death signal (SIGKILL), from a thread that lives as long as the
// member, so it dies when the test binary dies however it dies: a panic, a -timeout, SIGKILL.
// The directory of a cluster whose test process died that way is removed by the next test
// process that starts a cluster (each live directory is held by a file lock, so only dead ones
// go).
package etcdtest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/dockyard/dockyard/internal/testenv"
	"github.com/dockyard/dockyard/internal/testproc"
)

// EnvEndpoints is the environment variable naming an existing cluster to test against:
// comma-separated client endpoints. That cluster is never started or stopped here.
const EnvEndpoints = "DOCKYARD_TEST_ETCD"

// ErrUnavailable is wrapped by the errors of StartCluster (and ends the tests of Endpoints, DSN
// and NewCluster through testenv.Unavailable) when this machine cannot run etcd at all, as
// opposed to a cluster that fails.
var ErrUnavailable = errors.New("no etcd server available")

// prefixStart starts every key prefix that DSN makes, so that the keys that a test process
// which died left on a shared cluster can be found.
const prefixStart = "dockyard_test_"

// sharedSize is the number of members of the shared cluster.
const sharedSize = 3

// shared is the cluster of this test process, started by the first Endpoints or DSN call: its
// endpoints, or those of EnvEndpoints.
var shared testproc.Shared[[]string]

// sharedEndpoints returns the endpoints of the cluster to use, starting the throwaway one on
// first use.
func sharedEndpoints() ([]string, error) {
	eps, err := shared.Get(func() ([]string, func() error, error) {
		if env := os.Getenv(EnvEndpoints); env != "" {
			eps, err := parseEndpoints(env)
			return eps, nil, err
		}
		c, err := StartCluster(sharedSize)
		if err != nil {
			return nil, nil, err
		}
		return c.Endpoints(), c.Close, nil
	})
	return slices.Clone(eps), err
}

// parseEndpoints splits the value of EnvEndpoints.
func parseEndpoints(env string) ([]string, error) {
	var eps []string
	for ep := range strings.SplitSeq(env, ",") {
		ep = strings.TrimPrefix(strings.TrimSpace(ep), "http://")
		if ep == "" {
			continue
		}
		if strings.Contains(ep, "://") || strings.Contains(ep, "/") {
			return nil, fmt.Errorf("etcdtest: %s=%q: want host:port endpoints, separated by commas", EnvEndpoints, env)
		}
		eps = append(eps, ep)
	}
	if len(eps) == 0 {
		return nil, fmt.Errorf("etcdtest: %s=%q names no endpoint", EnvEndpoints, env)
	}
	return eps, nil
}

// Main runs the tests of m, stops the shared cluster if one was started, and exits with the
// tests' status. Call it from TestMain.
func Main(m *testing.M) { testproc.Main(m, Shutdown) }

// Shutdown stops the shared cluster of this process, if one was started, and removes its
// directory. A TestMain that does more than Main calls it after m.Run. Endpoints and DSN may
// not be called afterwards.
func Shutdown() {
	if err := shared.Close(errors.New("etcdtest: Endpoints or DSN called after Shutdown")); err != nil {
		fmt.Fprintf(os.Stderr, "etcdtest: %v\n", err)
	}
}

// Endpoints returns the client endpoints (host:port) of the shared cluster: the throwaway
// cluster of this test process, started on first use, or the cluster of EnvEndpoints. Without
// one, t ends through testenv.Unavailable.
func Endpoints(t testing.TB) []string {
	t.Helper()
	eps, err := sharedEndpoints()
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			testenv.Unavailable(t, "etcd server", err.Error())
		}
		t.Fatalf("etcdtest: %v", err)
	}
	return eps
}

var prefixSeq atomic.Uint64

// DSN returns "etcd://<endpoints of the shared cluster, joined by ,>/<prefix>" with a prefix
// of its own, "dockyard_test_<pid>_<seq>_<random hex>". When t ends, every key under
// "<prefix>/" is deleted. Without a cluster, t ends through testenv.Unavailable.
func DSN(t testing.TB) string {
	t.Helper()
	eps := Endpoints(t)
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	prefix := fmt.Sprintf("%s%d_%d_%s", prefixStart, os.Getpid(), prefixSeq.Add(1), hex.EncodeToString(rnd[:]))
	t.Cleanup(func() {
		if err := deletePrefix(eps, prefix+"/"); err != nil {
			t.Errorf("etcdtest: %v", err)
		}
	})
	return dsn(eps, prefix)
}

func dsn(eps []string, prefix string) string {
	return "etcd://" + strings.Join(eps, ",") + "/" + prefix
}

// deletePrefix deletes every key that starts with prefix.
func deletePrefix(eps []string, prefix string) error {
	cli, err := newClient(eps...)
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := cli.Delete(ctx, prefix, clientv3.WithPrefix()); err != nil {
		return fmt.Errorf("delete the keys under %q: %w", prefix, err)
	}
	return nil
}

// newClient returns a client of the endpoints that logs nothing: the tests' output is theirs.
func newClient(eps ...string) (*clientv3.Client, error) { return newClientTLS(nil, eps...) }

// Client returns a client of the cluster (of eps, when given: some of its endpoints) that logs
// nothing, over TLS with the client certificate for a TLS cluster. The caller closes it.
func (c *Cluster) Client(eps ...string) (*clientv3.Client, error) {
	if len(eps) == 0 {
		eps = c.Endpoints()
	}
	cfg, err := c.tls.config()
	if err != nil {
		return nil, fmt.Errorf("etcdtest: %w", err)
	}
	return newClientTLS(cfg, eps...)
}

func newClientTLS(cfg *tls.Config, eps ...string) (*clientv3.Client, error) {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   eps,
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
		TLS:         cfg,
	})
	if err != nil {
		return nil, fmt.Errorf("etcdtest: client of %v: %w", eps, err)
	}
	return cli, nil
}
