package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/dockyard/dockyard/drivers/etcd"
	"github.com/dockyard/dockyard/internal/etcdtest"
	"github.com/dockyard/dockyard/store"
)

// plainClient is an etcd client of its own on dsn's cluster, to look at and break the keys
// behind the driver, and dsn's key prefix.
func plainClient(t testing.TB, dsn string) (*clientv3.Client, string) {
	t.Helper()
	d, err := etcd.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: d.Endpoints, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli, d.Prefix
}

// holdLock runs an Update of s that takes the lock (it reads), then calls during, then puts
// ("ns", "k") = value; it returns the Update's error on the channel.
func holdLockIn(t *testing.T, s store.Store, value string, during func()) <-chan error {
	held := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(context.Background(), func(tx store.Tx) error {
			if _, err := tx.Get("ns", "k"); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			close(held)
			during()
			return tx.Put("ns", "k", []byte(value))
		})
	}()
	select {
	case <-held:
	case err := <-done:
		t.Fatalf("the lock holder's Update ended before taking the lock: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the lock holder did not take the lock within 30s")
	}
	return done
}

// get reads ("ns", "k") in a View of s.
func get(t *testing.T, s store.Store) string {
	t.Helper()
	var v []byte
	if err := s.View(t.Context(), func(tx store.Tx) error {
		var err error
		v, err = tx.Get("ns", "k")
		return err
	}); err != nil {
		t.Fatalf("View: %v", err)
	}
	return string(v)
}

// TestLostLockNotCommitted takes the lock away from a writer in the middle of its Update (its
// lease is revoked, as when the process was cut off for longer than the TTL), lets another
// writer commit, and checks the first one's commit is refused: a lost lock cannot be noticed
// by its holder, so only the commit's comparisons keep it from overwriting the other's write.
func TestLostLockNotCommitted(t *testing.T) {
	dsn := etcdtest.DSN(t)
	a, b := openT(t, dsn), openT(t, dsn)
	cli, prefix := plainClient(t, dsn)
	release := make(chan struct{})
	done := holdLockIn(t, a, "from a, whose lock was lost", func() { <-release })
	r, err := cli.Get(t.Context(), prefix+"/lock/", clientv3.WithPrefix())
	if err != nil || len(r.Kvs) != 1 {
		t.Fatalf("lock keys: %v, %v; want one", r, err)
	}
	if _, err := cli.Revoke(t.Context(), clientv3.LeaseID(r.Kvs[0].Lease)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := b.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Get("ns", "k"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("get = %v, want not found", err)
		}
		return tx.Put("ns", "k", []byte("from b"))
	}); err != nil {
		t.Fatalf("b's Update after a's lock was lost: %v", err)
	}
	close(release)
	err = <-done
	if err == nil || errors.Is(err, store.ErrCommitUnknown) {
		t.Fatalf("a's Update returned %v, want a refused commit", err)
	}
	t.Logf("a's Update: %v", err)
	if v := get(t, b); v != "from b" {
		t.Fatalf("k = %q, want b's write", v)
	}
}

// TestBlindWriteQueues checks an Update that only writes, which commits without the lock when
// nobody holds it, waits for a writer that holds it, and commits after it.
func TestBlindWriteQueues(t *testing.T) {
	dsn := etcdtest.DSN(t)
	a, b := openT(t, dsn), openT(t, dsn)
	blind := make(chan error, 1)
	done := holdLockIn(t, a, "from a", func() {
		go func() {
			blind <- b.Update(context.Background(), func(tx store.Tx) error { return tx.Put("ns", "k", []byte("from b")) })
		}()
		select {
		case err := <-blind:
			t.Errorf("the write-only Update ended (%v) while another writer held the lock", err)
		case <-time.After(300 * time.Millisecond):
		}
	})
	if err := <-done; err != nil {
		t.Fatalf("the lock holder's Update: %v", err)
	}
	if err := <-blind; err != nil {
		t.Fatalf("the write-only Update: %v", err)
	}
	if v := get(t, a); v != "from b" {
		t.Fatalf("k = %q, want the write-only Update's, which came second", v)
	}
}

// TestWaitingWriterGivesUp checks a writer whose context ends while it waits for the lock
// leaves the queue at once: the writer after it does not wait for its lease to expire.
func TestWaitingWriterGivesUp(t *testing.T) {
	dsn := etcdtest.DSN(t) + "?lock_ttl=30s"
	a, b, c := openT(t, dsn), openT(t, dsn), openT(t, dsn)
	release := make(chan struct{})
	done := holdLockIn(t, a, "from a", func() { <-release })
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	err := b.Update(ctx, func(tx store.Tx) error { _, err := tx.Get("ns", "k"); return err })
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the waiting Update returned %v, want its deadline", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := c.Update(ctx, func(tx store.Tx) error {
		v, err := tx.Get("ns", "k")
		if err == nil && string(v) != "from a" {
			err = fmt.Errorf("k = %q", v)
		}
		return err
	}); err != nil {
		t.Fatalf("the Update after the one that gave up: %v", err)
	}
}

// TestUpdateLimits checks an Update too large for one etcd request or transaction is refused
// with an error naming the limit, and commits nothing.
func TestUpdateLimits(t *testing.T) {
	s := openT(t, etcdtest.DSN(t))
	mustUpdate(t, s, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("before")) })
	// More operations than the test cluster's --max-txn-ops (16384).
	err := s.Update(t.Context(), func(tx store.Tx) error {
		for i := range 16400 {
			if err := tx.Put("many", fmt.Sprint(i), []byte("v")); err != nil {
				return err
			}
		}
		return tx.Put("ns", "k", []byte("after"))
	})
	if err == nil || !strings.Contains(err.Error(), "--max-txn-ops") || errors.Is(err, store.ErrCommitUnknown) {
		t.Fatalf("an Update of 16401 writes returned %v, want a refusal naming --max-txn-ops", err)
	}
	// More bytes than one request carries: refused at the Put that goes over.
	big := make([]byte, store.MaxValueSize)
	err = s.Update(t.Context(), func(tx store.Tx) error {
		for i := range 3 {
			if err := tx.Put("big", fmt.Sprint(i), big); err != nil {
				return err
			}
		}
		return tx.Put("ns", "k", []byte("after"))
	})
	if !errors.Is(err, store.ErrTooLarge) || !strings.Contains(err.Error(), "max_request_bytes") {
		t.Fatalf("an Update of 12 MiB returned %v, want store.ErrTooLarge naming max_request_bytes", err)
	}
	if v := get(t, s); v != "before" {
		t.Fatalf("k = %q after the refused Updates, want before", v)
	}
	var n int
	if err := s.View(t.Context(), func(tx store.Tx) error {
		for _, ns := range []string{"many", "big"} {
			kvs, err := tx.Scan(ns, "")
			n += len(kvs)
			if err != nil {
				return err
			}
		}
		return nil
	}); err != nil || n != 0 {
		t.Fatalf("the refused Updates left %d keys (%v)", n, err)
	}
}

// TestSchema checks the schema rules: concurrent opens of a new store record version 1 once,
// a newer version and a prefix holding other keys are refused, and a schema changed under an
// open store stops its Updates.
func TestSchema(t *testing.T) {
	dsn := etcdtest.DSN(t)
	cli, prefix := plainClient(t, dsn)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			s, err := openEtcd(t.Context(), dsn+"/new")
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent opens of a new store: %v", err)
	}
	r, err := cli.Get(t.Context(), prefix+"/new/meta/schema")
	if err != nil || len(r.Kvs) != 1 || string(r.Kvs[0].Value) != "1" || r.Kvs[0].Version != 1 {
		t.Fatalf("schema key after concurrent opens: %v %v, want version 1 written once", r.Kvs, err)
	}

	put := func(k, v string) {
		if _, err := cli.Put(t.Context(), prefix+k, v); err != nil {
			t.Fatal(err)
		}
	}
	put("/newer/meta/schema", "2")
	if _, err := openEtcd(t.Context(), dsn+"/newer"); err == nil || !strings.Contains(err.Error(), "newer than this driver's 1") {
		t.Fatalf("Open of a newer store: %v", err)
	}
	put("/foreign/config", "x")
	if _, err := openEtcd(t.Context(), dsn+"/foreign"); err == nil || !strings.Contains(err.Error(), "not a Dockyard store") {
		t.Fatalf("Open of a prefix with foreign keys: %v", err)
	}

	s := openT(t, dsn+"/changed")
	mustUpdate(t, s, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("before")) })
	put("/changed/meta/schema", "2")
	for _, readFirst := range []bool{false, true} {
		err := s.Update(t.Context(), func(tx store.Tx) error {
			if readFirst {
				if _, err := tx.Get("ns", "k"); err != nil {
					return err
				}
			}
			return tx.Put("ns", "k", []byte("after"))
		})
		if err == nil || !strings.Contains(err.Error(), "not 1 any more") {
			t.Fatalf("Update (reading first: %v) after the schema changed: %v", readFirst, err)
		}
	}
	put("/changed/meta/schema", "1")
	if v := get(t, s); v != "before" {
		t.Fatalf("k = %q, want before", v)
	}
}

// TestScanOfLargeValues scans a namespace of 20 values of store.MaxValueSize: 80 MiB, more than
// one response may carry (64 MiB), so the driver reads it in smaller pages and returns it whole.
func TestScanOfLargeValues(t *testing.T) {
	s := openT(t, etcdtest.DSN(t))
	const n = 20
	for i := range n {
		v := make([]byte, store.MaxValueSize)
		v[0], v[len(v)-1] = byte(i), byte(i)
		mustUpdate(t, s, func(tx store.Tx) error { return tx.Put("big", fmt.Sprintf("k%02d", i), v) })
	}
	for _, writable := range []bool{false, true} {
		var kvs []store.KeyValue
		scan := func(tx store.Tx) (err error) { kvs, err = tx.Scan("big", "k"); return err }
		var err error
		if writable {
			err = s.Update(t.Context(), scan)
		} else {
			err = s.View(t.Context(), scan)
		}
		if err != nil {
			t.Fatalf("scan (in an Update: %v): %v", writable, err)
		}
		if len(kvs) != n {
			t.Fatalf("scan (in an Update: %v): %d entries, want %d", writable, len(kvs), n)
		}
		for i, kv := range kvs {
			if kv.Key != fmt.Sprintf("k%02d", i) || len(kv.Value) != store.MaxValueSize || kv.Value[0] != byte(i) || kv.Value[len(kv.Value)-1] != byte(i) {
				t.Fatalf("entry %d: key %q, %d bytes", i, kv.Key, len(kv.Value))
			}
		}
	}
}
