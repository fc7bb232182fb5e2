package etcdtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func TestMain(m *testing.M) { Main(m) }

func client(t *testing.T, eps ...string) *clientv3.Client {
	t.Helper()
	cli, err := newClient(eps...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

// callCtx bounds one request of a test, so that a cluster that does not answer fails the test
// instead of hanging it.
func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func put(t *testing.T, cli *clientv3.Client, key, value string) {
	t.Helper()
	if _, err := cli.Put(callCtx(t), key, value); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

// count returns the number of keys under prefix.
func count(t *testing.T, cli *clientv3.Client, prefix string) int64 {
	t.Helper()
	resp, err := cli.Get(callCtx(t), prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	return resp.Count
}

// TestDSN: each DSN names the shared cluster and a prefix of its own, whose keys are deleted
// when its test ends (and no key outside it).
func TestDSN(t *testing.T) {
	eps := Endpoints(t)
	if os.Getenv(EnvEndpoints) == "" && len(eps) != sharedSize {
		t.Fatalf("Endpoints = %q: want %d members", eps, sharedSize)
	}
	cli := client(t, eps...)
	var prefixes []string
	for i := range 2 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			dsn := DSN(t)
			hosts, prefix, ok := strings.Cut(strings.TrimPrefix(dsn, "etcd://"), "/")
			if !ok || !strings.HasPrefix(dsn, "etcd://") || hosts != strings.Join(eps, ",") || !strings.HasPrefix(prefix, prefixStart) {
				t.Fatalf("DSN = %q: want etcd://%s/%s...", dsn, strings.Join(eps, ","), prefixStart)
			}
			if n := count(t, cli, prefix+"/"); n != 0 {
				t.Fatalf("a new prefix has %d keys", n)
			}
			put(t, cli, prefix+"/a", "1")
			put(t, cli, prefix+"/b/c", "2")
			put(t, cli, prefix+"-outside", "3")
			prefixes = append(prefixes, prefix)
		})
	}
	if len(prefixes) != 2 || prefixes[0] == prefixes[1] {
		t.Fatalf("prefixes %q: want two distinct ones", prefixes)
	}
	for _, p := range prefixes {
		if n := count(t, cli, p+"/"); n != 0 {
			t.Errorf("%d keys under %s/ outlived their test", n, p)
		}
		if n := count(t, cli, p+"-outside"); n != 1 {
			t.Errorf("the key %s-outside, outside the prefix, was deleted", p)
		}
		if _, err := cli.Delete(callCtx(t), p+"-outside"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestKillLeader kills the leader of a private cluster: another member is elected, writes
// through the others succeed, and the killed member, started again, catches up on them.
func TestKillLeader(t *testing.T) {
	c := NewCluster(t, 3)
	ctx := t.Context()
	if c.Size() != 3 || len(c.Endpoints()) != 3 || !strings.HasPrefix(c.DSN("p"), "etcd://"+c.Endpoints()[0]+",") {
		t.Fatalf("Size %d, Endpoints %q, DSN %q", c.Size(), c.Endpoints(), c.DSN("p"))
	}
	put(t, client(t, c.Endpoints()...), "before", "1")
	old, err := c.Leader(callCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := c.Kill(old); err != nil {
		t.Fatal(err)
	}
	if c.Running(old) {
		t.Fatalf("member %d runs after Kill", old)
	}
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	leader, err := c.Leader(lctx)
	if err != nil || leader == old {
		t.Fatalf("Leader after killing %d: %d, %v", old, leader, err)
	}
	t.Logf("member %d killed, member %d leads after %v", old, leader, time.Since(start))
	var rest []string
	for i, ep := range c.Endpoints() {
		if i != old {
			rest = append(rest, ep)
		}
	}
	cli := client(t, rest...)
	for i := range 20 {
		put(t, cli, fmt.Sprintf("during/%02d", i), strconv.Itoa(i))
	}
	if err := c.Start(old); err != nil {
		t.Fatal(err)
	}
	hctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := c.WaitHealthy(hctx); err != nil {
		t.Fatal(err)
	}
	// Only the restarted member, and a serializable read: what it has itself.
	back := client(t, c.Endpoints()[old])
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		gctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		resp, err := back.Get(gctx, "during/", clientv3.WithPrefix(), clientv3.WithSerializable())
		cancel()
		if err == nil && len(resp.Kvs) == 20 && string(resp.Kvs[19].Value) == "19" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restarted member %d did not catch up: %v, %v", old, resp, err)
		}
	}
}

// TestQuorum stops two members of three: writes fail; one started again, they resume.
func TestQuorum(t *testing.T) {
	c := NewCluster(t, 3)
	ctx := t.Context()
	for _, i := range []int{0, 1} {
		if err := c.Stop(i); err != nil {
			t.Fatal(err)
		}
	}
	if c.Running(0) || c.Running(1) || !c.Running(2) {
		t.Fatalf("running after stopping 0 and 1: %v %v %v", c.Running(0), c.Running(1), c.Running(2))
	}
	cli := client(t, c.Endpoints()[2])
	wctx, cancel := context.WithTimeout(ctx, time.Second)
	_, err := cli.Put(wctx, "k", "lost")
	cancel()
	if err == nil {
		t.Fatal("a write with one member of three running succeeded")
	}
	t.Logf("a write without quorum: %v", err)
	if err := c.Start(0); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(0); err == nil {
		t.Fatal("Start of a running member succeeded")
	}
	hctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := c.WaitHealthy(hctx); err != nil {
		t.Fatal(err)
	}
	put(t, cli, "k", "kept")
	resp, err := client(t, c.Endpoints()[0]).Get(callCtx(t), "k")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "kept" {
		t.Fatalf("read k through member 0: %v, %v", resp, err)
	}
}

// probeEnv makes TestUnavailable's child look for a cluster without an etcd binary.
const probeEnv = "DOCKYARD_ETCDTEST_PROBE"

// TestUnavailable runs a child without etcd (EnvBinary naming no program, none in PATH), with and without CI=true: locally it
// skips with the loud marker, under CI it fails.
func TestUnavailable(t *testing.T) {
	if os.Getenv(probeEnv) == "1" {
		if _, err := StartCluster(1); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("StartCluster without etcd: %v, want ErrUnavailable", err)
		}
		NewCluster(t, 1)
		t.Fatal("NewCluster returned without etcd")
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "CI=") && !strings.HasPrefix(kv, EnvEndpoints+"=") && !strings.HasPrefix(kv, EnvBinary+"=") {
			env = append(env, kv)
		}
	}
	for _, ci := range []string{"false", "true"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestUnavailable$", "-test.v", "-test.count=1")
		cmd.Env = append(env, probeEnv+"=1", "PATH="+t.TempDir(), "CI="+ci, EnvBinary+"=dockyard-no-such-etcd")
		out, err := cmd.CombinedOutput()
		switch ci {
		case "false":
			if err != nil || !strings.Contains(string(out), "SKIP!!! REQUIREMENT MISSING: etcd server") {
				t.Errorf("locally: err=%v, output:\n%s\nwant a loud skip", err, out)
			}
		case "true":
			if err == nil || !strings.Contains(string(out), "CI=true: a missing requirement is a failure") {
				t.Errorf("under CI: err=%v, output:\n%s\nwant a failure", err, out)
			}
		}
	}
}
