package pdk_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// probe wraps a real driver, records how the adapter drives it, and injects faults.
type probe struct {
	pdk.Driver
	caps pdk.Capabilities

	mu                  sync.Mutex
	readers, writers    int
	violations          []string
	commits, rollbacks  atomic.Int32
	closes              atomic.Int32
	putErr              error
	scanHook            func(page []store.KeyValue, more bool) ([]store.KeyValue, bool)
	scanCalls, maxLimit atomic.Int32
	catalogPuts         atomic.Int32
}

func newProbe(caps pdk.Capabilities) *probe { return &probe{Driver: inmem.NewDriver(), caps: caps} }

func (p *probe) Info() pdk.Info {
	info := p.Driver.Info()
	info.Caps = p.caps
	return info
}

func (p *probe) Begin(ctx context.Context, writable bool) (pdk.Txn, error) {
	p.mu.Lock()
	if writable && p.writers > 0 {
		p.violations = append(p.violations, "two writers open")
	}
	if !p.caps.ConcurrentReaders && (p.writers > 0 || (writable && p.readers > 0)) {
		p.violations = append(p.violations, "reader beside writer on a driver without concurrent readers")
	}
	if writable {
		p.writers++
	} else {
		p.readers++
	}
	p.mu.Unlock()
	tx, err := p.Driver.Begin(ctx, writable)
	return &probeTxn{Txn: tx, p: p, writable: writable}, err
}

func (p *probe) Close() error { p.closes.Add(1); return p.Driver.Close() }

func (p *probe) end(writable bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if writable {
		p.writers--
	} else {
		p.readers--
	}
}

type probeTxn struct {
	pdk.Txn
	p        *probe
	writable bool
	ended    bool
}

func (t *probeTxn) Put(ctx context.Context, ns, key string, v []byte) error {
	if t.p.putErr != nil {
		return t.p.putErr
	}
	if ns == store.NamespaceCatalog {
		t.p.catalogPuts.Add(1)
	}
	return t.Txn.Put(ctx, ns, key, v)
}

func (t *probeTxn) Scan(ctx context.Context, ns, prefix, after string, limit int) ([]store.KeyValue, bool, error) {
	t.p.scanCalls.Add(1)
	if int32(limit) > t.p.maxLimit.Load() {
		t.p.maxLimit.Store(int32(limit))
	}
	page, more, err := t.Txn.Scan(ctx, ns, prefix, after, limit)
	if t.p.scanHook != nil {
		page, more = t.p.scanHook(page, more)
	}
	return page, more, err
}

func (t *probeTxn) finish() {
	if t.ended {
		panic("transaction ended twice")
	}
	t.ended = true
	t.p.end(t.writable)
}

func (t *probeTxn) Commit(ctx context.Context) error {
	t.finish()
	t.p.commits.Add(1)
	return t.Txn.Commit(ctx)
}

func (t *probeTxn) Rollback() error {
	t.finish()
	t.p.rollbacks.Add(1)
	return t.Txn.Rollback()
}

func (p *probe) check(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.violations) > 0 {
		t.Fatalf("adapter broke the driver contract: %q", p.violations[:min(5, len(p.violations))])
	}
	if p.readers != 0 || p.writers != 0 {
		t.Fatalf("transactions left open: %d readers, %d writers", p.readers, p.writers)
	}
}

// TestSerialization drives many Views and Updates at once and checks the adapter never asks a
// driver for more concurrency than it declared.
func TestSerialization(t *testing.T) {
	for _, concurrent := range []bool{false, true} {
		t.Run(fmt.Sprintf("ConcurrentReaders=%v", concurrent), func(t *testing.T) {
			p := newProbe(pdk.Capabilities{ConcurrentReaders: concurrent})
			s := pdk.NewStore(p)
			defer s.Close()
			ctx := context.Background()
			var wg sync.WaitGroup
			for g := 0; g < 8; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 50; i++ {
						var err error
						if (g+i)%3 == 0 {
							err = s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", []byte{byte(i)}) })
						} else {
							err = s.View(ctx, func(tx store.Tx) error { _, err := tx.Scan("ns", ""); return err })
						}
						if err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			p.check(t)
		})
	}
}

func TestEveryTxnEndsOnce(t *testing.T) {
	p := newProbe(pdk.Capabilities{ConcurrentReaders: true})
	s := pdk.NewStore(p)
	ctx := context.Background()
	boom := errors.New("boom")
	_ = s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v")) })
	_ = s.Update(ctx, func(tx store.Tx) error { return boom })
	_ = s.View(ctx, func(tx store.Tx) error { return nil })
	func() {
		defer func() { _ = recover() }()
		_ = s.Update(ctx, func(tx store.Tx) error { panic(boom) })
	}()
	p.check(t)
	if c, r := p.commits.Load(), p.rollbacks.Load(); c != 1 || r != 3 {
		t.Fatalf("commits=%d rollbacks=%d, want 1 and 3", c, r)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if n := p.closes.Load(); n != 1 {
		t.Fatalf("driver closed %d times, want once", n)
	}
}

// TestDriverFailureIsNotCommitted: a callback that ignores a driver's write failure must not
// commit the rest of the transaction.
func TestDriverFailureIsNotCommitted(t *testing.T) {
	p := newProbe(pdk.Capabilities{ConcurrentReaders: true})
	s := pdk.NewStore(p)
	defer s.Close()
	ctx := context.Background()
	diskFull := errors.New("disk full")
	err := s.Update(ctx, func(tx store.Tx) error {
		p.putErr = nil
		if err := tx.Put("ns", "first", []byte("1")); err != nil {
			return err
		}
		p.putErr = diskFull
		_ = tx.Put("ns", "second", []byte("2")) // error ignored by a careless callback
		return nil
	})
	p.putErr = nil
	if !errors.Is(err, diskFull) {
		t.Fatalf("Update after an ignored driver failure = %v, want it to wrap %v", err, diskFull)
	}
	if p.commits.Load() != 0 {
		t.Fatalf("the transaction was committed after a driver failure")
	}
	err = s.View(ctx, func(tx store.Tx) error { _, err := tx.Get("ns", "first"); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("first write of the failed transaction is visible: %v", err)
	}
}

// TestScanPagesAreAssembledAndChecked checks pages are requested with the configured size and
// stitched together, and that a driver returning a bad page gets an error, never a wrong result
// or an endless loop.
func TestScanPagesAreAssembledAndChecked(t *testing.T) {
	ctx := context.Background()
	fill := func(s store.Store) {
		err := s.Update(ctx, func(tx store.Tx) error {
			for i := 0; i < 10; i++ {
				if err := tx.Put("ns", fmt.Sprintf("k%02d", i), []byte("v")); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	scan := func(s store.Store) ([]store.KeyValue, error) {
		var kvs []store.KeyValue
		err := s.View(ctx, func(tx store.Tx) error {
			var err error
			kvs, err = tx.Scan("ns", "k")
			return err
		})
		return kvs, err
	}

	p := newProbe(pdk.Capabilities{ConcurrentReaders: true})
	s := pdk.NewStore(p, pdk.WithScanPageSize(3))
	defer s.Close()
	fill(s)
	kvs, err := scan(s)
	if err != nil || len(kvs) != 10 || kvs[9].Key != "k09" {
		t.Fatalf("paged scan = %d entries, %v", len(kvs), err)
	}
	if calls, limit := p.scanCalls.Load(), p.maxLimit.Load(); calls != 4 || limit != 3 {
		t.Fatalf("scan pages: %d calls with limit %d, want 4 calls of 3", calls, limit)
	}

	bad := map[string]func([]store.KeyValue, bool) ([]store.KeyValue, bool){
		"out of order": func(p []store.KeyValue, more bool) ([]store.KeyValue, bool) {
			p = slices.Clone(p)
			slices.Reverse(p)
			return p, more
		},
		"outside prefix": func(p []store.KeyValue, more bool) ([]store.KeyValue, bool) {
			return append(p, store.KeyValue{Key: "z"}), more
		},
		"empty page claiming more": func([]store.KeyValue, bool) ([]store.KeyValue, bool) { return nil, true },
		"repeated page":            func(p []store.KeyValue, _ bool) ([]store.KeyValue, bool) { return p, true },
		"page over the limit": func(p []store.KeyValue, more bool) ([]store.KeyValue, bool) {
			return append(p, store.KeyValue{Key: "k99"}, store.KeyValue{Key: "k991"}), more
		},
	}
	for name, hook := range bad {
		t.Run(name, func(t *testing.T) {
			p := newProbe(pdk.Capabilities{ConcurrentReaders: true})
			s := pdk.NewStore(p, pdk.WithScanPageSize(3))
			defer s.Close()
			fill(s)
			p.scanHook = hook
			done := make(chan error, 1)
			go func() { _, err := scan(s); done <- err }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "scan") {
					t.Fatalf("scan with a driver returning a bad page: %v, want an error naming the scan", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("scan with a bad driver did not return")
			}
		})
	}
}

// TestGateWaitersSeeClose: callers waiting for the writer slot when Close begins get
// ErrClosed instead of starting new work.
func TestGateWaitersSeeClose(t *testing.T) {
	p := newProbe(pdk.Capabilities{})
	s := pdk.NewStore(p)
	ctx := context.Background()
	in, release := make(chan struct{}), make(chan struct{})
	go func() {
		_ = s.Update(ctx, func(store.Tx) error { close(in); <-release; return nil })
	}()
	<-in
	waiter := make(chan error, 1)
	ran := atomic.Bool{}
	go func() { waiter <- s.Update(ctx, func(store.Tx) error { ran.Store(true); return nil }) }()
	time.Sleep(20 * time.Millisecond) // let the waiter queue behind the open Update
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	for !errors.Is(s.Ping(ctx), store.ErrClosed) { // wait until Close has begun
		time.Sleep(time.Millisecond)
	}
	close(release)
	if err := <-waiter; !errors.Is(err, store.ErrClosed) || ran.Load() {
		t.Fatalf("waiter queued before Close: err=%v ran=%v, want ErrClosed and no run", err, ran.Load())
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	p.check(t)
}

func TestNilCallback(t *testing.T) {
	s := pdk.NewStore(newProbe(pdk.Capabilities{}))
	defer s.Close()
	if err := s.Update(context.Background(), nil); err == nil {
		t.Fatal("Update(nil) returned no error")
	}
}

func TestInfoOf(t *testing.T) {
	d := inmem.NewDriver()
	info, ok := pdk.InfoOf(pdk.NewStore(d))
	if !ok || info != d.Info() {
		t.Fatalf("InfoOf(NewStore(inmem)) = %+v, %v; want %+v, true", info, ok, d.Info())
	}
	if _, ok := pdk.InfoOf(nil); ok {
		t.Fatal("InfoOf(nil) reports a driver")
	}
	// A wrapper that forwards Describer is described; one that does not, is not.
	if got, ok := pdk.InfoOf(describing{plain{pdk.NewStore(d)}}); !ok || got != d.Info() {
		t.Fatalf("InfoOf(a forwarding wrapper) = %+v, %v; want %+v, true", got, ok, d.Info())
	}
	if _, ok := pdk.InfoOf(plain{pdk.NewStore(d)}); ok {
		t.Fatal("InfoOf(a wrapper that does not forward) reports a driver")
	}
	if _, ok := pdk.StatsOf(pdk.NewStore(d)); ok {
		t.Fatal("StatsOf(a store on an in-process driver) reports transport statistics")
	}
}

// plain wraps a Store and forwards nothing but its methods, as a metrics wrapper would.
type plain struct{ store.Store }

// describing is plain forwarding pdk.Describer.
type describing struct{ plain }

func (w describing) DriverInfo() pdk.Info { info, _ := pdk.InfoOf(w.plain.Store); return info }

// pagingTx wraps a Tx and forwards store.Pager, counting the pages asked.
type pagingTx struct {
	store.Tx
	pages *int
}

func (tx pagingTx) ScanPage(ns, prefix, after string, limit int) ([]store.KeyValue, bool, error) {
	*tx.pages++
	return store.ScanPage(tx.Tx, ns, prefix, after, limit)
}

// TestScanPageThroughWrapper: a wrapping Tx that forwards store.Pager keeps a paged walk paged:
// every page is asked of the driver alone, as many pages as the walk takes.
func TestScanPageThroughWrapper(t *testing.T) {
	ctx := context.Background()
	s := pdk.NewStore(inmem.NewDriver())
	defer s.Close()
	if err := s.Update(ctx, func(tx store.Tx) error {
		for i := range 20 {
			if err := tx.Put("ns", fmt.Sprintf("k%02d", i), []byte("v")); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	pages := 0
	if err := s.View(ctx, func(tx store.Tx) error {
		w := pagingTx{Tx: tx, pages: &pages}
		var got []string
		for after := ""; ; {
			page, more, err := store.ScanPage(w, "ns", "", after, 7)
			if err != nil {
				return err
			}
			for _, kv := range page {
				got = append(got, kv.Key)
			}
			if !more {
				break
			}
			after = page[len(page)-1].Key
		}
		if len(got) != 20 || got[0] != "k00" || got[19] != "k19" {
			t.Errorf("walk through the wrapper: %q", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if pages != 3 {
		t.Errorf("the walk asked the wrapper for %d pages, want 3 (20 entries in pages of 7)", pages)
	}
}

// TestScanPage walks a namespace in pages of 7 through the driver and through the fallback
// for a Tx the adapter did not make, and checks both give Scan's result.
func TestScanPage(t *testing.T) {
	ctx := context.Background()
	s := pdk.NewStore(inmem.NewDriver(), pdk.WithScanPageSize(5))
	defer s.Close()
	var want []string
	err := s.Update(ctx, func(tx store.Tx) error {
		for i := range 40 {
			k := fmt.Sprintf("p\xff%02d", i)
			want = append(want, k)
			if err := tx.Put("ns", k, nil); err != nil {
				return err
			}
		}
		return tx.Put("ns", "q", []byte("outside the prefix"))
	})
	must(t, err)
	walk := func(tx store.Tx) []string {
		var got []string
		after := ""
		for {
			page, more, err := store.ScanPage(tx, "ns", "p\xff", after, 7)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > 7 {
				t.Fatalf("page of %d entries, limit 7", len(page))
			}
			for _, kv := range page {
				got = append(got, kv.Key)
				after = kv.Key
			}
			if !more {
				return got
			}
		}
	}
	must(t, s.View(ctx, func(tx store.Tx) error {
		if got := walk(tx); !slices.Equal(got, want) {
			t.Errorf("pages through the driver: %q, want %q", got, want)
		}
		if got := walk(scanOnly{tx}); !slices.Equal(got, want) {
			t.Errorf("pages through the fallback: %q, want %q", got, want)
		}
		if _, _, err := store.ScanPage(tx, "ns", "", "", 0); err == nil {
			t.Error("ScanPage with limit 0 succeeded")
		}
		return nil
	}))
}

// scanOnly hides the adapter's Tx behind the store.Tx interface alone.
type scanOnly struct{ store.Tx }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDecodeOptions(t *testing.T) {
	type opts struct {
		N int    `json:"n"`
		S string `json:"s"`
	}
	for _, raw := range []string{"", " \n", `{}`, `{"n": 1, "s": "x"}`} {
		var o opts
		if err := pdk.DecodeOptions([]byte(raw), &o); err != nil {
			t.Errorf("options %q: %v", raw, err)
		}
	}
	for raw, want := range map[string]string{
		`{"m": 1}`:      `unknown field "m"`,
		`{"n": "1"}`:    "cannot unmarshal string",
		`{"n": 1} {}`:   "data after the object",
		`{"n": 1} x`:    "data after the object",
		`[1]`:           "cannot unmarshal array",
		`{"n": 1`:       "unexpected EOF",
		`{"s": "x"} 1`:  "data after the object",
		`{"s": "x"}   `: "",
	} {
		var o opts
		err := pdk.DecodeOptions([]byte(raw), &o)
		if want == "" {
			if err != nil {
				t.Errorf("options %q: %v", raw, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("options %q: %v, want an error saying %q", raw, err, want)
		}
	}
}

// TestCatalogWrites: an Update records each namespace it writes to in the catalog; a durable
// store stops doing so once an Update that recorded it has committed, a non-durable one never
// does (its catalog may vanish with its data), and a rolled-back Update teaches nothing.
func TestCatalogWrites(t *testing.T) {
	ctx := context.Background()
	for _, durable := range []bool{true, false} {
		p := newProbe(pdk.Capabilities{Durable: durable, ConcurrentReaders: true})
		s := pdk.NewStore(p)
		errStop := errors.New("roll back")
		put := func(ns string, fail bool) {
			err := s.Update(ctx, func(tx store.Tx) error {
				if err := tx.Put(ns, "k1", nil); err != nil {
					return err
				}
				if err := tx.Put(ns, "k2", nil); err != nil {
					return err
				}
				if fail {
					return errStop
				}
				return nil
			})
			if (err != nil) != fail {
				t.Fatal(err)
			}
		}
		put("a", true)  // rolled back: 1 catalog write, nothing learnt
		put("a", false) // 1
		put("a", false) // durable: 0, else 1
		put("b", false) // 1
		want := int32(3)
		if !durable {
			want = 4
		}
		if got := p.catalogPuts.Load(); got != want {
			t.Errorf("durable=%v: %d catalog writes, want %d", durable, got, want)
		}
		var names []string
		if err := s.View(ctx, func(tx store.Tx) (err error) { names, err = store.Namespaces(tx); return err }); err != nil || !slices.Equal(names, []string{"a", "b"}) {
			t.Errorf("durable=%v: Namespaces = %q, %v", durable, names, err)
		}
		s.Close()
	}
}
