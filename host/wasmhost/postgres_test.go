//go:build unix

package wasmhost

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dockyard/dockyard/drivers/postgres"
	"github.com/dockyard/dockyard/host"
	"github.com/dockyard/dockyard/host/artifact"
	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/internal/pgtest"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

var postgresWasm = &builtModule{dir: "../../plugins/postgres"}

// pgEndpoint returns the server's host:port of a pgtest DSN: what the module may connect to.
func pgEndpoint(t testing.TB, dsn string) string {
	t.Helper()
	pc, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort(pc.Host, strconv.Itoa(int(pc.Port)))
}

// pgTables makes a fresh DSN for each store on base: a table of its own in the test's schema,
// named through the DSN's dockyard_table parameter.
func pgTables(t testing.TB, base string) func(storetest.T) string {
	var seq atomic.Int64
	return func(st storetest.T) string {
		dsn, err := pgtest.WithParam(base, postgres.TableParam, fmt.Sprintf("store_%d", seq.Add(1)))
		if err != nil {
			st.Fatalf("%v", err)
		}
		return dsn
	}
}

// TestConformancePostgres runs the suite against drivers/postgres compiled to wasm
// (plugins/postgres), on the test server, the only endpoint its sandbox lists. The DSN is the
// server's (WithServerDSN): nothing is mounted. Reopen instantiates a fresh guest on the same
// table, so durability is proved across instances and their connections.
func TestConformancePostgres(t *testing.T) {
	base := pgtest.DSN(t)
	m := compileBuilt(t, postgresWasm, WithName("postgres"), WithServerDSN(), WithConnect(pgEndpoint(t, base)))
	storetest.Run(t, storetest.ByDSN(storetest.Capabilities{Durable: true, ConcurrentReaders: true},
		pgTables(t, base), func(ctx context.Context, dsn string) (store.Store, error) { return m.Open(ctx, dsn) }))
}

// TestManifestPostgres registers the module by a manifest, as an application would: transport
// wasm, dsn_form "server" (the DSN is handed to the module, nothing mounted) and exactly the
// test server's endpoint in sandbox.connect; then runs the whole suite through store.Open of
// the registered name. A DSN naming another port is refused by the sandbox, and no store
// leaves a directory behind.
func TestManifestPostgres(t *testing.T) {
	base := pgtest.DSN(t)
	endpoint := pgEndpoint(t, base)
	path, err := artifactbuild.Build(postgresWasm.dir)
	if err != nil {
		t.Fatal(err)
	}
	code, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(code)
	name := fmt.Sprintf("postgres_wasm_%d", time.Now().UnixNano())
	manifest, err := json.Marshal(map[string]any{
		"name": name, "transport": "wasm", "artifact": path, "sha256": hex.EncodeToString(sum[:]),
		"abi": fmt.Sprintf("%d.%d", abi.Major, abi.Minor), "dsn_form": "server",
		"sandbox": map[string]any{"connect": []string{endpoint}},
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name+".json"), manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	quiet := host.WithLogger(slog.New(slog.DiscardHandler))
	loaded, err := host.LoadDir(context.Background(), dir, quiet)
	if err != nil || len(loaded) != 1 {
		t.Fatalf("LoadDir: %v, %v", loaded, err)
	}
	if loaded[0].DSNForm != pdk.DSNServer {
		t.Errorf("DSNForm %q, want %q", loaded[0].DSNForm, pdk.DSNServer)
	}
	// The working directory is where a DSN taken for a relative directory would be created.
	work := t.TempDir()
	t.Chdir(work)
	t.Cleanup(func() {
		if ents, err := os.ReadDir(work); err != nil || len(ents) > 0 {
			t.Errorf("the working directory holds %v (%v): a server DSN must create nothing", ents, err)
		}
	})

	t.Run("unlisted port", func(t *testing.T) {
		pc, err := pgconn.ParseConfig(base)
		if err != nil {
			t.Fatal(err)
		}
		other := strings.Replace(base, "port="+strconv.Itoa(int(pc.Port)), "port="+strconv.Itoa(int(pc.Port)+1), 1)
		if other == base {
			t.Skipf("the DSN %q has no port= to change", pdk.RedactDSN(base))
		}
		other, err = pgtest.WithParam(other, postgres.TableParam, "unlisted")
		if err != nil {
			t.Fatal(err)
		}
		s, err := store.Open(t.Context(), name, other)
		if err == nil {
			s.Close()
			t.Fatal("a store on a port the sandbox does not list opened")
		}
		t.Logf("refused: %v", err)
		if !strings.Contains(err.Error(), "not allowed") {
			t.Errorf("open on an unlisted port: %v; want the sandbox's refusal", err)
		}
	})

	storetest.Run(t, storetest.ByDSN(storetest.Capabilities{Durable: true, ConcurrentReaders: true},
		pgTables(t, base), func(ctx context.Context, dsn string) (store.Store, error) { return store.Open(ctx, name, dsn) }))
}

// TestServerDSN checks WithServerDSN, and the manifest's dsn_form "server" that sets it: the
// DSN reaches the guest unchanged and nothing is created or mounted for it, where without it a
// DSN is a directory, created.
func TestServerDSN(t *testing.T) {
	if c, err := resolve("x", artifactOptions(&artifact.Artifact{Name: "kv", DSNForm: pdk.DSNServer})); err != nil || !c.serverDSN {
		t.Errorf("dsn_form server: serverDSN %v, %v; want true", c.serverDSN, err)
	}
	for _, form := range []pdk.DSNForm{"", pdk.DSNDir, pdk.DSNEmpty} {
		if c, _ := resolve("x", artifactOptions(&artifact.Artifact{Name: "kv", DSNForm: form})); c.serverDSN {
			t.Errorf("dsn_form %q: serverDSN set", form)
		}
	}
	m := compileBuilt(t, inmemWasm, WithServerDSN())
	dirs := compileBuilt(t, inmemWasm)
	work := t.TempDir()
	t.Chdir(work) // where a DSN taken for a relative directory is created
	const dsn = "db/host=x port=1"
	d, err := m.NewDriver(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	tr := d.(*driver).t
	if tr.dsn != dsn || tr.root != nil || tr.lock != nil {
		t.Errorf("transport of a server DSN: dsn %q, root %v, lock %v; want the DSN and nothing mounted", tr.dsn, tr.root, tr.lock)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(work); len(ents) != 0 {
		t.Errorf("a server DSN created %v", ents)
	}
	// Without it, the same DSN is a data directory.
	s, err := dirs.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if fi, err := os.Stat(filepath.Join(work, dsn)); err != nil || !fi.IsDir() {
		t.Errorf("without WithServerDSN the DSN is no directory: %v", err)
	}
}

// TestServerRestartPostgres stops the server under the wasm driver (a crash-like immediate
// shutdown, then a fast one) while a client keeps incrementing a counter: with the server down
// the store's operations fail, naming the driver; once the server is back on the same
// endpoint they work again in the same guest, and the counter holds every Update that
// returned nil and at most those whose outcome was store.ErrCommitUnknown besides, the
// guarantees of the in-process driver (drivers/postgres TestServerRestart).
func TestServerRestartPostgres(t *testing.T) {
	srv := pgtest.NewServer(t)
	endpoint := net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.Port()))
	m := compileBuilt(t, postgresWasm, WithName("postgres"), WithServerDSN(), WithConnect(endpoint))
	s := openStore(t, m, srv.DSN()+" dockyard_table=restart")
	pgtest.RestartUnderWriter(t, srv, s, "restart", false)
}

// holdProxy forwards TCP connections to a server and, when armed, holds the connection whose
// client sends a write holding a marker: the write is forwarded to the server or not, and
// nothing more passes either way, so the client waits for an answer that never comes. The
// connection closes when the client closes it.
type holdProxy struct {
	l      net.Listener
	target string

	mu      sync.Mutex
	marker  []byte // nil: not armed
	forward bool
	holds   atomic.Int32
}

func newHoldProxy(t *testing.T, target string) *holdProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &holdProxy{l: l, target: target}
	t.Cleanup(func() { l.Close() })
	go p.serve()
	return p
}

// arm makes the proxy hold the next connection that sends marker, once; "" disarms it.
func (p *holdProxy) arm(marker string, forward bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.marker, p.forward = nil, forward
	if marker != "" {
		p.marker = []byte(marker)
	}
}

func (p *holdProxy) serve() {
	for {
		client, err := p.l.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		var held atomic.Bool
		go func() { // server to client, until held
			defer client.Close()
			buf := make([]byte, 64<<10)
			for {
				n, err := server.Read(buf)
				if n > 0 && !held.Load() {
					if _, err := client.Write(buf[:n]); err != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
		go func() { // client to server, watching for the marker
			defer server.Close()
			buf := make([]byte, 64<<10)
			for {
				n, err := client.Read(buf)
				if n > 0 && !held.Load() {
					p.mu.Lock()
					hit := p.marker != nil && bytes.Contains(buf[:n], p.marker)
					forward := p.forward
					if hit {
						p.marker = nil
						held.Store(true)
						p.holds.Add(1)
					}
					p.mu.Unlock()
					if !hit || forward {
						if _, err := server.Write(buf[:n]); err != nil {
							return
						}
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// TestGuestDiscardedPostgres discards the wasm driver's guest in the middle of an Update: while
// its COMMIT waits for the server's answer (the call's deadline stops the guest), whether the
// COMMIT reached the server or not, and before the COMMIT, while a read of the Update's function
// waits.
// The outcome of the first two is unknown: store.ErrCommitUnknown, the write there or not as
// the server decided; the last fails without that uncertainty and commits nothing. Every
// Update that returned nil is there after each, and the store goes on in a fresh guest.
func TestGuestDiscardedPostgres(t *testing.T) {
	base := pgtest.DSN(t)
	proxy := newHoldProxy(t, pgEndpoint(t, base))
	endpoint := proxy.l.Addr().String()
	dsn := base
	for _, kv := range [][2]string{
		{"host", "127.0.0.1"}, {"port", strconv.Itoa(proxy.l.Addr().(*net.TCPAddr).Port)}, {postgres.TableParam, "discarded"},
		// In exec mode pgx sends each statement's text, so the proxy sees the COMMIT.
		{"default_query_exec_mode", "exec"},
	} {
		var err error
		if dsn, err = pgtest.WithParam(dsn, kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	const deadline = 5 * time.Second
	m := compileBuilt(t, postgresWasm, WithName("postgres"), WithServerDSN(), WithConnect(endpoint), WithCallTimeout(deadline))
	s := openStore(t, m, dsn)
	ctx := t.Context()
	var committed []string // keys of the Updates that returned nil
	update := func(key string) error {
		return s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", key, []byte("x")) })
	}
	has := func(key string) bool {
		t.Helper()
		_, err := get(t, s, "ns", key)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get %s: %v", key, err)
		}
		return err == nil
	}
	if err := update("warm"); err != nil {
		t.Fatal(err)
	}
	committed = append(committed, "warm")
	t.Cleanup(func() {
		for _, key := range committed {
			if !has(key) {
				t.Errorf("%s, committed, is lost", key)
			}
		}
	})
	for _, c := range []struct {
		name      string
		forward   bool // the COMMIT reaches the server
		committed bool
	}{
		{name: "commit-held", committed: false},
		{name: "commit-forwarded", forward: true, committed: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			proxy.arm("COMMIT\x00", c.forward)
			holds := proxy.holds.Load()
			start := time.Now()
			err := update(c.name)
			proxy.arm("", false)
			t.Logf("Update after %v: %v", time.Since(start).Round(time.Millisecond), err)
			switch {
			case proxy.holds.Load() != holds+1:
				t.Fatalf("the proxy held no connection (Update: %v)", err)
			case !errors.Is(err, store.ErrCommitUnknown):
				t.Fatalf("Update: %v; want store.ErrCommitUnknown", err)
			case !errors.As(err, new(*InstanceError)) && !strings.Contains(err.Error(), "deadline"):
				t.Errorf("Update: %v; want it to say the guest was stopped at its deadline", err)
			}
			if got := has(c.name); got != c.committed {
				t.Errorf("the write is there: %v, want %v", got, c.committed)
			}
		})
	}
	t.Run("in-update", func(t *testing.T) {
		// Held at its read: the guest is stopped at the deadline of the Get.
		proxy.arm("SELECT v FROM", false)
		holds := proxy.holds.Load()
		runs := 0
		err := s.Update(ctx, func(tx store.Tx) error {
			runs++
			if err := tx.Put("ns", "in-update", []byte("x")); err != nil {
				return err
			}
			_, err := tx.Get("ns", "warm")
			return err
		})
		proxy.arm("", false)
		t.Logf("Update: %v", err)
		switch {
		case proxy.holds.Load() != holds+1:
			t.Fatalf("the proxy held no connection (Update: %v)", err)
		case err == nil:
			t.Fatal("an Update whose guest was discarded before its COMMIT succeeded")
		case errors.Is(err, store.ErrCommitUnknown):
			t.Errorf("Update: %v; the COMMIT never ran, want no ErrCommitUnknown", err)
		case !errors.Is(err, abi.ErrBroken) && !strings.Contains(err.Error(), "deadline"):
			t.Errorf("Update: %v; want it to say the guest was stopped at its deadline", err)
		case runs != 1:
			t.Errorf("fn ran %d times, want 1", runs)
		}
		if has("in-update") {
			t.Error("the write of the discarded guest's Update is there")
		}
	})
	if err := update("after"); err != nil {
		t.Fatalf("Update after the discards: %v", err)
	}
	committed = append(committed, "after")
}
