package etcdtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/testenv"
	"github.com/dockyard/dockyard/internal/testproc"
)

// ServerFlags are the etcd flags of every member started here, beside its name, ports,
// directory and initial cluster. They are written for etcd 3.7 (and work with 3.4):
//
//   - --max-request-bytes=8388608 and --max-txn-ops=16384: a request may carry a value of up to
//     4 MiB (store.MaxValueSize) with its keys, and a transaction many operations.
//   - --heartbeat-interval=50 --election-timeout=500 (milliseconds): a leader that dies is
//     replaced in about half a second instead of the default one to two seconds. Loopback
//     round trips take microseconds, so this is still ten heartbeats per election timeout;
//     under full CPU load (the race detector, a busy machine) a heartbeat can be late by tens
//     of milliseconds, which this absorbs. --pre-vote=true keeps a member that was stopped
//     and comes back from forcing an election of its own: it rejoins as a follower.
//   - --snapshot-count=10000: a snapshot every 10,000 applied writes instead of 100,000, so a
//     member keeps less of the raft log in memory, and one that was down long enough catches
//     up from a snapshot, as in production.
//   - --quota-backend-bytes=4294967296: a 4 GiB backend instead of 2 GiB, so tests writing
//     many large values do not raise the NOSPACE alarm; --auto-compaction-retention=0: no
//     automatic compaction, so revisions stay readable until a test compacts.
//   - --logger=zap --log-outputs=stderr --log-level=error: only errors, into the member's log
//     file (its stderr), whose end the errors of this package quote.
var ServerFlags = []string{
	"--max-request-bytes=8388608",
	"--max-txn-ops=16384",
	"--heartbeat-interval=50",
	"--election-timeout=500",
	"--pre-vote=true",
	"--snapshot-count=10000",
	"--quota-backend-bytes=4294967296",
	"--auto-compaction-retention=0",
	"--logger=zap",
	"--log-outputs=stderr",
	"--log-level=error",
}

// dirPrefix starts the name of every throwaway cluster's directory.
const dirPrefix = "dockyard-etcdtest-"

// Timeouts of a member's life cycle.
const (
	readyTimeout = 60 * time.Second // from starting a cluster to its being healthy
	stopTimeout  = 20 * time.Second // from SIGTERM to exit, before SIGKILL
)

// Cluster is a throwaway etcd cluster in a directory of its own.
type Cluster struct {
	bin     string // the etcd binary
	dir     string // holds owner.lock and a directory per member
	token   string // the --initial-cluster-token
	unlock  func()
	tls     *TLSFiles // nil: clients speak plain TCP
	mu      sync.Mutex
	members []*member
}

// NewCluster starts a private cluster of size members for t, closed when t ends. Without the
// etcd binary, t ends through testenv.Unavailable.
func NewCluster(t testing.TB, size int) *Cluster {
	t.Helper()
	return newClusterT(t, size, false)
}

// NewTLSCluster is NewCluster for a cluster that serves its clients over TLS only, and requires
// a client certificate signed by its certificate authority (Cluster.TLS). Its peers speak plain
// TCP among themselves.
func NewTLSCluster(t testing.TB, size int) *Cluster {
	t.Helper()
	return newClusterT(t, size, true)
}

// TLS returns the cluster's certificate files, nil for a cluster without TLS.
func (c *Cluster) TLS() *TLSFiles { return c.tls }

func newClusterT(t testing.TB, size int, withTLS bool) *Cluster {
	t.Helper()
	c, err := startClusterTLS(size, withTLS)
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			testenv.Unavailable(t, "etcd server", err.Error())
		}
		t.Fatalf("etcdtest: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("etcdtest: %v", err)
		}
	})
	return c
}

// EnvBinary is the environment variable naming the etcd binary to start members from.
const EnvBinary = "DOCKYARD_ETCD_BIN"

// etcdBinary finds the etcd server: EnvBinary, else bin/etcd of the Dockyard module this test
// runs in (what `make etcdtools` builds), else etcd in PATH.
func etcdBinary() (string, error) {
	if bin := os.Getenv(EnvBinary); bin != "" {
		return exec.LookPath(bin)
	}
	if dir, err := os.Getwd(); err == nil {
		for ; ; dir = filepath.Dir(dir) {
			if mod, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(mod), "module github.com/dockyard/dockyard\n") {
				if bin := filepath.Join(dir, "bin", "etcd"); fileExists(bin) {
					return bin, nil
				}
				break
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return exec.LookPath("etcd")
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// StartCluster starts a throwaway cluster of size members and waits until it is healthy. The
// caller must Close it. Without the etcd binary, the error wraps ErrUnavailable.
func StartCluster(size int) (*Cluster, error) { return startClusterTLS(size, false) }

func startClusterTLS(size int, withTLS bool) (*Cluster, error) {
	if size < 1 {
		return nil, fmt.Errorf("etcdtest: a cluster of %d members", size)
	}
	bin, err := etcdBinary()
	if err != nil {
		return nil, fmt.Errorf("etcdtest: %w: %v (run `make etcdtools`, which builds it into bin/etcd, or set %s to a cluster's endpoints)", ErrUnavailable, err, EnvEndpoints)
	}
	removeStaleDirs()
	// A free port can be taken by someone else before etcd binds it: try once more.
	for attempt := 1; ; attempt++ {
		c, err := startCluster(bin, size, withTLS)
		if err == nil || attempt == 2 || !strings.Contains(err.Error(), "address already in use") {
			return c, err
		}
	}
}

func startCluster(bin string, size int, withTLS bool) (*Cluster, error) {
	dir, err := os.MkdirTemp(baseDir(), dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("etcdtest: %w", err)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	c := &Cluster{bin: bin, dir: dir, token: filepath.Base(dir) + "-" + hex.EncodeToString(rnd[:])}
	fail := func(err error) (*Cluster, error) {
		return nil, errors.Join(err, c.Close())
	}
	if c.unlock, err = testproc.LockOwner(dir); err != nil {
		return fail(fmt.Errorf("etcdtest: %w", err))
	}
	if withTLS {
		if c.tls, err = writeTLS(filepath.Join(dir, "tls")); err != nil {
			return fail(fmt.Errorf("etcdtest: certificates: %w", err))
		}
	}
	ports, err := freePorts(2 * size)
	if err != nil {
		return fail(fmt.Errorf("etcdtest: %w", err))
	}
	for i := range size {
		m := &member{name: "m" + strconv.Itoa(i), dir: filepath.Join(dir, "m"+strconv.Itoa(i)),
			clientPort: ports[2*i], peerPort: ports[2*i+1]}
		if err := os.Mkdir(m.dir, 0o700); err != nil {
			return fail(fmt.Errorf("etcdtest: %w", err))
		}
		c.members = append(c.members, m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	c.mu.Lock()
	for i := range c.members {
		if err := c.startLocked(i); err != nil {
			c.mu.Unlock()
			return fail(err)
		}
	}
	c.mu.Unlock()
	if err := c.WaitHealthy(ctx); err != nil {
		return fail(fmt.Errorf("%w; the members' logs:\n%s", err, c.logTails()))
	}
	return c, nil
}

// freePorts returns n distinct loopback TCP ports that were free a moment ago, chosen below
// the kernel's ephemeral range (Linux's default starts at 32768). A member that is killed and
// started again needs its ports back; a port of the ephemeral range may meanwhile have become
// the local port of some outgoing connection (a client dialling another member), and the
// member's bind would fail. Ports below the range are never handed out that way.
func freePorts(n int) ([]int, error) {
	const lo, hi = 20000, 32000
	var ports []int
	start := lo + mathrand.IntN(hi-lo)
	for p := start; len(ports) < n; {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err == nil {
			defer l.Close() // held until all are chosen, so none comes twice
			ports = append(ports, p)
		}
		if p++; p == hi {
			p = lo
		}
		if p == start {
			return nil, fmt.Errorf("etcdtest: no %d free loopback ports in %d-%d", n, lo, hi)
		}
	}
	return ports, nil
}

func httpURL(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) }

// clientURL is the URL a member serves its clients on.
func (c *Cluster) clientURL(port int) string {
	if c.tls != nil {
		return "https://127.0.0.1:" + strconv.Itoa(port)
	}
	return httpURL(port)
}

func endpoint(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// Endpoints returns the client endpoints (host:port) of all members, in member order.
func (c *Cluster) Endpoints() []string {
	eps := make([]string, len(c.members))
	for i, m := range c.members {
		eps[i] = endpoint(m.clientPort)
	}
	return eps
}

// DSN returns "etcd://<endpoints joined by ,>/<prefix>".
func (c *Cluster) DSN(prefix string) string { return dsn(c.Endpoints(), prefix) }

// Size returns the number of members.
func (c *Cluster) Size() int { return len(c.members) }

// Close kills every member (SIGKILL: a graceful stop would only spend time on leadership
// transfers, for data about to be removed) and removes the cluster's directory.
func (c *Cluster) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, m := range c.members {
		m.kill()
	}
	if c.unlock != nil {
		c.unlock()
		c.unlock = nil
	}
	if err := os.RemoveAll(c.dir); err != nil {
		errs = append(errs, fmt.Errorf("etcdtest: remove %s: %w", c.dir, err))
	}
	return errors.Join(errs...)
}

// logTails returns the ends of all members' logs.
func (c *Cluster) logTails() string {
	var b strings.Builder
	for _, m := range c.members {
		fmt.Fprintf(&b, "=== %s (%s):\n%s\n", m.name, m.dir, m.logTail())
	}
	return b.String()
}
