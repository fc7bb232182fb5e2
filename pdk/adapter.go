package pdk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/dockyard/dockyard/store"
)

// DefaultScanPageSize is the number of entries the adapter asks a driver for per Scan page.
const DefaultScanPageSize = 512

// Bounds of one Tx.Scan, over all its pages: a driver (a hostile guest, say) that answers
// every page with more entries to follow cannot make Scan run or grow forever.
const (
	// DefaultMaxScanEntries is the most entries one Tx.Scan returns (WithMaxScanEntries).
	DefaultMaxScanEntries = 1 << 20
	// DefaultMaxScanBytes is the most key and value bytes one Tx.Scan returns
	// (WithMaxScanBytes).
	DefaultMaxScanBytes = 256 << 20
	// DefaultScanTimeout is how long one Tx.Scan may go on asking for pages
	// (WithScanTimeout).
	DefaultScanTimeout = time.Minute
)

// ErrScanLimit is wrapped by the error of a Tx.Scan that passed one of its bounds: its entries
// (WithMaxScanEntries), its bytes (WithMaxScanBytes) or its time (WithScanTimeout). The
// error names the bound; nothing of the scan is returned. Scan a narrower prefix, or page
// with ScanPage.
var ErrScanLimit = errors.New("pdk: scan past its bound")

// Option configures NewStore.
type Option func(*config)

type config struct {
	pageSize                 int
	maxScanEntries, maxBytes int
	scanTimeout              time.Duration
	readOnly                 bool
}

// WithReadOnly makes the store read-only: Update fails with an error wrapping store.ErrReadOnly
// before the driver is asked to begin anything, so no driver needs its own check. A driver
// opened for store.OpenReadOnly (store.ReadOnlyOpen) passes it.
func WithReadOnly() Option { return func(c *config) { c.readOnly = true } }

// WithScanPageSize sets how many entries the adapter requests per Scan page (default
// DefaultScanPageSize). Remote transports use it to bound frame sizes.
func WithScanPageSize(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.pageSize = n
		}
	}
}

// WithMaxScanEntries bounds the entries one Tx.Scan returns (default DefaultMaxScanEntries);
// a scan that would return more fails with ErrScanLimit.
func WithMaxScanEntries(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxScanEntries = n
		}
	}
}

// WithMaxScanBytes bounds the key and value bytes one Tx.Scan returns (default
// DefaultMaxScanBytes); a scan that would return more fails with ErrScanLimit.
func WithMaxScanBytes(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxBytes = n
		}
	}
}

// WithScanTimeout bounds how long one Tx.Scan goes on asking the driver for pages (default
// DefaultScanTimeout): once it has passed, a page that says more entries follow fails the scan
// with ErrScanLimit. It bounds the scan, not each page: a transport bounds each call itself.
func WithScanTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.scanTimeout = d
		}
	}
}

// NewStore returns a store.Store backed by d, with every rule of the seam enforced here. The
// Store owns d: closing the Store closes d.
func NewStore(d Driver, opts ...Option) store.Store {
	cfg := config{pageSize: DefaultScanPageSize, maxScanEntries: DefaultMaxScanEntries,
		maxBytes: DefaultMaxScanBytes, scanTimeout: DefaultScanTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	info := d.Info()
	a := &adapter{
		d:         d,
		info:      info,
		maxKey:    limit(info.Caps.MaxKeySize, store.MaxKeySize),
		maxValue:  limit(info.Caps.MaxValueSize, store.MaxValueSize),
		maxNS:     limit(info.Caps.MaxNamespaceSize, store.MaxNamespaceSize),
		pageSize:  cfg.pageSize,
		scan:      cfg,
		closeDone: make(chan struct{}),
	}
	if info.Caps.ConcurrentReaders {
		a.writers = semaphore.NewWeighted(1)
	} else {
		a.rw = semaphore.NewWeighted(exclusive)
	}
	return a
}

// Describer is implemented by a store.Store that can say which driver backs it: every store
// made by NewStore does. A Store that wraps another (for metrics, logging) should implement it
// by calling InfoOf on the Store it wraps, so tools can still describe it.
type Describer interface {
	DriverInfo() Info
}

// InfoOf returns what the driver behind s declared (its name, version and capabilities), if s
// is a Describer; tools such as the dockyard CLI use it to describe a store.
func InfoOf(s store.Store) (Info, bool) {
	d, ok := s.(Describer)
	if !ok {
		return Info{}, false
	}
	return d.DriverInfo(), true
}

// DriverInfo implements Describer.
func (a *adapter) DriverInfo() Info { return a.info }

// TransportStats counts what a transport did for one store, in one shape for every host: the
// wasm transport fills the ABI client's counters, the plugin transport those and its process's.
type TransportStats struct {
	// RoundTrips is the number of crossings: request frames sent to the guest or plugin.
	RoundTrips uint64
	// Reopens is the number of HELLOs sent again after the guest session was lost.
	Reopens uint64
	// Lost reports that the store is lost: the guest is not durable, its session was lost,
	// and the client was not made to accept the loss, so every call fails with
	// store.ErrStoreLost.
	Lost bool
	// Starts is how many plugin processes were started: 1 + restarts (plugins only).
	Starts int
	// PID is the running plugin process's id, 0 if none runs (plugins only).
	PID int
	// LogsDropped is how many of the plugin's log records were dropped, over the rate limit
	// (plugins only).
	LogsDropped int64
}

// StatsReporter is implemented by a Driver whose transport counts its work (the drivers of
// host/wasmhost and host/pluginhost), and by the stores NewStore makes, which forward to their
// driver. A wrapping Store should forward it as Describer is forwarded.
type StatsReporter interface {
	TransportStats() (TransportStats, bool)
}

// StatsOf returns the transport statistics of the store s, if its driver reports them.
func StatsOf(s store.Store) (TransportStats, bool) {
	r, ok := s.(StatsReporter)
	if !ok {
		return TransportStats{}, false
	}
	return r.TransportStats()
}

// TransportStats implements StatsReporter, forwarding to the driver.
func (a *adapter) TransportStats() (TransportStats, bool) {
	if r, ok := a.d.(StatsReporter); ok {
		return r.TransportStats()
	}
	return TransportStats{}, false
}

// exclusive is the weight a writer takes on the readers/writer gate: more than any number of
// concurrent readers can hold.
const exclusive = 1 << 40

type adapter struct {
	d                       Driver
	info                    Info
	maxKey, maxValue, maxNS int
	pageSize                int
	scan                    config // the bounds of one Tx.Scan

	// Exactly one of writers and rw is set. writers admits one writer at a time beside any
	// number of readers; rw admits many readers or one writer (weight exclusive).
	writers *semaphore.Weighted
	rw      *semaphore.Weighted

	mu        sync.Mutex
	closed    bool
	inflight  sync.WaitGroup
	closeErr  error
	closeDone chan struct{}

	// cataloged holds the namespaces a committed Update recorded in store.NamespaceCatalog,
	// for a durable driver only, so later Updates skip the catalog write. A durable driver's
	// catalog survives what the adapter does not see (a lost sandbox instance, a restarted
	// plugin); a non-durable driver's may vanish with its data, so it is written every time.
	cataloged sync.Map // namespace -> struct{}
}

// Info returns the driver's description. It lets hosts and tools see what backs a Store.
func (a *adapter) Info() Info { return a.info }

func (a *adapter) enter() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return store.ErrClosed
	}
	a.inflight.Add(1)
	return nil
}

func (a *adapter) isClosed() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.closed
}

// gate returns the semaphore a transaction must hold and its weight, or nil when it needs none
// (a reader beside a driver with concurrent readers).
func (a *adapter) gate(writable bool) (*semaphore.Weighted, int64) {
	switch {
	case a.writers != nil && !writable:
		return nil, 0
	case a.writers != nil:
		return a.writers, 1
	case writable:
		return a.rw, exclusive
	}
	return a.rw, 1
}

func (a *adapter) View(ctx context.Context, fn func(store.Tx) error) error {
	return a.run(ctx, false, fn)
}

func (a *adapter) Update(ctx context.Context, fn func(store.Tx) error) error {
	return a.run(ctx, true, fn)
}

func (a *adapter) run(ctx context.Context, writable bool, fn func(store.Tx) error) error {
	if fn == nil {
		return errors.New("store: nil transaction callback")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if writable && a.scan.readOnly {
		return fmt.Errorf("%w: %s: the store was opened read-only", store.ErrReadOnly, a.info.Name)
	}
	if err := a.enter(); err != nil {
		return err
	}
	defer a.inflight.Done()
	if sem, n := a.gate(writable); sem != nil {
		if !sem.TryAcquire(n) {
			// Queued behind the gate, honouring ctx.
			if err := sem.Acquire(ctx, n); err != nil {
				return err
			}
			if a.isClosed() {
				// Close began while this call waited for the gate: it must not start new work.
				sem.Release(n)
				return store.ErrClosed
			}
		}
		defer sem.Release(n)
	}
	dtx, err := a.d.Begin(ctx, writable)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", a.info.Name, err)
	}
	tx := &txn{a: a, ctx: ctx, dtx: dtx, writable: writable}
	return tx.run(fn)
}

func (a *adapter) Migrate(ctx context.Context, set *store.MigrationSet) error {
	if a.isClosed() {
		return store.ErrClosed
	}
	return store.RunMigrations(ctx, a, set)
}

func (a *adapter) Ping(ctx context.Context) error {
	if err := a.enter(); err != nil {
		return err
	}
	defer a.inflight.Done()
	return a.d.Ping(ctx)
}

// Close marks the store closed, waits for every transaction in flight, then closes the driver.
// Later calls wait for the first to finish and return its result. Close must not be called
// from inside a View or Update callback of the same store: it would wait for itself.
func (a *adapter) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		<-a.closeDone
		return a.closeErr
	}
	a.closed = true
	a.mu.Unlock()
	a.inflight.Wait()
	a.closeErr = a.d.Close()
	close(a.closeDone)
	return a.closeErr
}

func (a *adapter) checkKey(ns, key string) error {
	if err := a.checkNS(ns); err != nil {
		return err
	}
	if key == "" {
		return fmt.Errorf("%w: empty key", store.ErrInvalidKey)
	}
	if len(key) > a.maxKey {
		return fmt.Errorf("%w: key of %d bytes (max %d)", store.ErrTooLarge, len(key), a.maxKey)
	}
	return nil
}

func (a *adapter) checkNS(ns string) error {
	if ns == "" {
		return fmt.Errorf("%w: empty namespace", store.ErrInvalidKey)
	}
	if len(ns) > a.maxNS {
		return fmt.Errorf("%w: namespace of %d bytes (max %d)", store.ErrTooLarge, len(ns), a.maxNS)
	}
	return nil
}
