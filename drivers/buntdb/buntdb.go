package buntdb

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	bunt "github.com/tidwall/buntdb"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// Name is the name the driver registers under.
const Name = "buntdb"

// Version is the driver's own version, reported in pdk.Info together with buntdb's.
const Version = "1"

// FileName is the name of the database file inside the store's data directory.
const FileName = "store.db"

// compactName is the name of the compacted copy being written; it replaces FileName by rename.
const compactName = FileName + ".compact"

// DefaultCompactMinSize is the file size below which the database file is never compacted.
const DefaultCompactMinSize = 32 << 20

// maxPageBytes bounds the keys and values of one scan page (a page always holds at least one
// entry), so a page of large values does not make one huge frame when served over the ABI.
const maxPageBytes = 8 << 20

func init() {
	pdk.DeclareDSN(Name, pdk.DSNDir)
	store.Register(Name, func(ctx context.Context, dsn string) (store.Store, error) {
		if store.ReadOnlyOpen(ctx) {
			return Open(ctx, dsn, WithReadOnly())
		}
		return Open(ctx, dsn)
	})
}

// Options are the driver's settings: the With functions set them one at a time, and a driver
// artifact decodes them whole from a manifest's "options" (pdk.DecodeOptions onto
// DefaultOptions; the JSON names are in the tags) and passes them with WithOptions. Every value
// is valid.
type Options struct {
	// CompactMinSize sets when the database file is compacted: once it is larger than this
	// many bytes and more than twice as large as it was after the last compaction (or as its
	// live data when the store was opened). The default is DefaultCompactMinSize. A negative
	// value disables compaction: the file then grows with every write, until compacted by a
	// later open with compaction enabled. JSON "compact_min_size".
	CompactMinSize int64 `json:"compact_min_size"`
	// ReadOnly opens an existing store and writes nothing: a directory without the database
	// file is store.ErrNoStore, nothing is compacted, and Update fails with store.ErrReadOnly.
	// The directory's lock is still taken, so that no writer appends while the file is read.
	// store.OpenReadOnly sets it; it is not a manifest option.
	ReadOnly bool `json:"-"`
}

// DefaultOptions returns the options a store has when none is given.
func DefaultOptions() Options { return Options{CompactMinSize: DefaultCompactMinSize} }

// Option configures Open and NewDriver.
type Option func(*Options)

// WithOptions sets every option at once, to o.
func WithOptions(o Options) Option { return func(c *Options) { *c = o } }

// WithReadOnly sets Options.ReadOnly.
func WithReadOnly() Option { return func(c *Options) { c.ReadOnly = true } }

// WithCompactMinSize sets Options.CompactMinSize.
func WithCompactMinSize(n int64) Option {
	return func(c *Options) { c.CompactMinSize = n }
}

// Open opens (creating if needed) the store whose data directory is dir and returns it as a
// store.Store. The directory must exist.
func Open(ctx context.Context, dir string, opts ...Option) (store.Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d, err := NewDriver(dir, opts...)
	if err != nil {
		return nil, err
	}
	if d.(*driver).cfg.ReadOnly {
		return pdk.NewStore(d, pdk.WithReadOnly()), nil
	}
	return pdk.NewStore(d), nil
}

// NewDriver opens (creating if needed) the store whose data directory is dir and returns it as
// a pdk.Driver, for hosts that serve drivers (the wasm and plugin guests) rather than use them
// through a Store. The directory must exist; the database file is FileName inside it. The
// caller owns the driver and must Close it; pdk.NewStore takes that ownership over.
func NewDriver(dir string, opts ...Option) (pdk.Driver, error) {
	cfg := DefaultOptions()
	for _, o := range opts {
		o(&cfg)
	}
	abs, err := checkDir(dir)
	if err != nil {
		return nil, err
	}
	if cfg.ReadOnly {
		if _, err := os.Stat(filepath.Join(abs, FileName)); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("buntdb: open %s read-only: %w: the directory holds no %s (a read-only open creates nothing)", abs, store.ErrNoStore, FileName)
		}
	}
	unlock, err := lockDir(abs)
	if err != nil {
		return nil, err
	}
	d := &driver{dir: abs, path: filepath.Join(abs, FileName), cfg: cfg, unlock: unlock}
	// A compacted copy left by a crash during compaction was never renamed into place: the
	// database file is complete without it.
	// (A read-only open leaves it: it removes nothing, and the file is ignored anyway.)
	if err := d.removeStale(); err != nil {
		_ = unlock()
		return nil, err
	}
	if err := d.openDB(); err != nil {
		_ = unlock()
		return nil, err
	}
	if !cfg.ReadOnly && d.compactionDue() {
		if soft, fatal := d.compact(); fatal != nil {
			_ = d.Close()
			return nil, fatal
		} else if soft != nil {
			d.baseline = d.size // try again once the file has doubled
		}
	}
	return d, nil
}

// removeStale removes a compacted copy left by a crash, unless the store is read-only.
func (d *driver) removeStale() error {
	if d.cfg.ReadOnly {
		return nil
	}
	if err := os.Remove(filepath.Join(d.dir, compactName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("buntdb: open %s: remove a stale compaction file: %w", d.path, err)
	}
	return nil
}

// checkDir validates dir and returns it made absolute. It creates nothing.
func checkDir(dir string) (string, error) {
	switch {
	case dir == "":
		return "", errors.New("buntdb: empty data directory: the buntdb driver needs a directory to keep its database file in")
	case strings.IndexByte(dir, 0) >= 0:
		return "", fmt.Errorf("buntdb: data directory %q contains a NUL byte", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("buntdb: data directory %s: %w", dir, err)
	}
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("buntdb: data directory %s does not exist (it is not created): %w", dir, fs.ErrNotExist)
	case err != nil:
		return "", fmt.Errorf("buntdb: data directory %s: %w", dir, err)
	case !st.IsDir():
		return "", fmt.Errorf("buntdb: data directory %s is not a directory (the buntdb driver takes a directory, not a file)", dir)
	}
	return abs, nil
}

// driver is the pdk.Driver.
//
// buntdb admits one writer or many readers (a sync.RWMutex), and its writer changes the live
// tree in place, so the driver declares no concurrent readers and the adapter never opens a
// read beside a write. All the read handles that are open at one time share one buntdb read
// transaction, so the driver holds buntdb's read lock at most once: buntdb's background
// goroutine takes the write lock once a second, and a second read lock taken while it waits
// would wait for it, which waits for the first read lock, whose handle may be waiting for the
// host's next call (in a wasm reactor) or for the very goroutine that is blocked.
type driver struct {
	dir, path string
	cfg       Options
	unlock    func() error // releases the directory lock

	mu       sync.Mutex
	db       *bunt.DB
	syncf    *os.File // a second handle on path: the driver fsyncs through it (see Commit)
	closed   bool
	failed   error // once set, the store is not used again: every call returns it
	wedged   bool  // buntdb panicked, perhaps holding its lock: db is never touched again
	writeTx  *bunt.Tx
	readTx   *bunt.Tx // shared by every open read handle
	readers  int
	size     int64 // the file's length after the last commit
	baseline int64 // live data at open, or the file's length after the last compaction
}

// openDB checks and recovers the database file (see file.go), then opens it with buntdb.
func (d *driver) openDB() error {
	f, err := os.OpenFile(d.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("buntdb: open %s: %w", d.path, err)
	}
	rc, err := recoverFile(f, d.path)
	if err == nil && rc.created {
		err = syncDir(d.dir)
	}
	if err != nil {
		_ = f.Close()
		return err
	}
	db, err := bunt.Open(d.path)
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("buntdb: open %s: %w", d.path, err)
	}
	// Never: the driver fsyncs itself after each commit, because buntdb ignores the error of
	// its own fsync. No auto-shrink: buntdb's shrink neither fsyncs the new file before
	// renaming it nor syncs the directory, and panics in its background goroutine if the
	// rename fails; the driver compacts the file itself (compact).
	if err := db.SetConfig(bunt.Config{SyncPolicy: bunt.Never, AutoShrinkDisabled: true}); err != nil {
		_ = db.Close()
		_ = f.Close()
		return fmt.Errorf("buntdb: open %s: configure: %w", d.path, err)
	}
	live := int64(len(header))
	_ = db.View(func(tx *bunt.Tx) error {
		return tx.Ascend("", func(k, v string) bool {
			if !isMeta(k) {
				live += setSize(k, v)
			}
			return true
		})
	})
	d.db, d.syncf, d.size, d.baseline = db, f, rc.end, live
	return nil
}

// closeDB closes buntdb and the sync handle.
func (d *driver) closeDB() error {
	var errs []error
	if d.db != nil && !d.wedged {
		if err := d.db.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if d.syncf != nil {
		if err := d.syncf.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	d.db, d.syncf = nil, nil
	return errors.Join(errs...)
}

// compactionDue reports whether the file has grown enough to be rewritten.
func (d *driver) compactionDue() bool {
	return d.cfg.CompactMinSize >= 0 && d.size > max(d.cfg.CompactMinSize, 2*d.baseline)
}

// compact rewrites the database file with only its live data: a snapshot is written to a new
// file and fsynced, the old database is closed, the new file renamed over it and the directory
// fsynced, and the new file opened. No transaction may be open. A soft error happened before
// the rename: the store is unchanged and usable. A fatal error leaves it unusable.
func (d *driver) compact() (soft, fatal error) {
	tmp := filepath.Join(d.dir, compactName)
	if err := writeSnapshot(d.db, tmp); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("buntdb: compact %s: %w", d.path, err), nil
	}
	if err := d.closeDB(); err != nil {
		_ = os.Remove(tmp)
		return nil, d.fail(fmt.Errorf("buntdb: compact %s: close: %w", d.path, err))
	}
	if err := os.Rename(tmp, d.path); err != nil {
		_ = os.Remove(tmp)
		if oerr := d.openDB(); oerr != nil {
			return nil, d.fail(errors.Join(fmt.Errorf("buntdb: compact %s: %w", d.path, err), oerr))
		}
		return fmt.Errorf("buntdb: compact %s: %w", d.path, err), nil
	}
	// Until the rename is durable a crash may bring back the old file, which must then not
	// miss commits made to the new one: no commit before the directory is synced.
	if err := syncDir(d.dir); err != nil {
		return nil, d.fail(fmt.Errorf("buntdb: compact %s: %w", d.path, err))
	}
	if err := d.openDB(); err != nil {
		return nil, d.fail(fmt.Errorf("buntdb: reopen after compaction: %w", err))
	}
	d.baseline = d.size
	return nil, nil
}

// writeSnapshot writes every live record of db to a new file at path, as one transaction
// after the header, and fsyncs it.
func writeSnapshot(db *bunt.DB, path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	var werr error
	err = db.View(func(tx *bunt.Tx) error {
		_, werr = bw.Write(header)
		n, sum := 0, uint32(0)
		var rec []byte
		err := tx.Ascend("", func(k, v string) bool {
			if isMeta(k) {
				return true
			}
			rec = appendSet(rec[:0], k, v)
			_, werr = bw.Write(rec)
			n++
			sum += crc32.Checksum(rec, castagnoli)
			return werr == nil
		})
		if err != nil {
			return err
		}
		if werr == nil {
			_, werr = bw.Write(appendSet(nil, commitKey, commitValue(n+1, sum)))
		}
		return werr
	})
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir fsyncs a directory, making the entries created or renamed in it durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be fsynced there; NTFS journals renames itself
	}
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// fail marks the store unusable with err and returns err. The caller holds d.mu or is the one
// writer.
func (d *driver) fail(err error) error {
	if d.failed == nil {
		d.failed = err
	}
	return err
}

// usable reports why the driver cannot be used, if it cannot. The caller holds d.mu.
func (d *driver) usable() error {
	switch {
	case d.closed:
		return fmt.Errorf("buntdb: %s: %w", d.path, store.ErrClosed)
	case d.failed != nil:
		return fmt.Errorf("buntdb: %s: the store failed earlier and must be reopened: %w", d.path, d.failed)
	}
	return nil
}

// buntdbVersion is the version of github.com/tidwall/buntdb in the binary, if known.
var buntdbVersion = sync.OnceValue(func() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == "github.com/tidwall/buntdb" {
				if m.Replace != nil {
					return m.Replace.Version
				}
				return m.Version
			}
		}
	}
	return ""
})

func (d *driver) Info() pdk.Info {
	v := Version
	if bv := buntdbVersion(); bv != "" {
		v += " (buntdb " + bv + ")"
	}
	return pdk.Info{Name: Name, Version: v, Caps: pdk.Capabilities{Durable: true, ConcurrentReaders: false}}
}

// errMisuse reports a transaction the adapter promises never to begin; beginning it would
// block on buntdb's lock, perhaps forever.
var errMisuse = errors.New("buntdb: the driver does not support concurrent readers")

func (d *driver) Begin(ctx context.Context, writable bool) (pdk.Txn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return nil, err
	}
	if writable && d.cfg.ReadOnly { // the adapter refuses first; a guest's dispatcher calls Begin itself
		return nil, fmt.Errorf("buntdb: %s: %w: the store was opened read-only", d.dir, store.ErrReadOnly)
	}
	if d.writeTx != nil {
		return nil, fmt.Errorf("%w: a transaction was begun while a write transaction is open", errMisuse)
	}
	if !writable {
		if d.readTx == nil {
			tx, err := d.db.Begin(false)
			if err != nil {
				return nil, fmt.Errorf("buntdb: begin read transaction on %s: %w", d.path, err)
			}
			d.readTx = tx
		}
		d.readers++
		return &txn{d: d, tx: d.readTx}, nil
	}
	if d.readers > 0 {
		return nil, fmt.Errorf("%w: a write transaction was begun while %d read transactions are open", errMisuse, d.readers)
	}
	if d.compactionDue() && ctx.Err() == nil {
		soft, fatal := d.compact()
		if fatal != nil {
			return nil, fatal
		}
		if soft != nil {
			d.baseline = d.size // try again once the file has doubled
		}
	}
	tx, err := d.db.Begin(true)
	if err != nil {
		return nil, fmt.Errorf("buntdb: begin write transaction on %s: %w", d.path, err)
	}
	d.writeTx = tx
	return &txn{d: d, tx: tx, writable: true, touched: make(map[string]uint32)}, nil
}

// Ping reports whether the store is usable and its database file is still in place. It does not
// touch buntdb, whose lock an open transaction may hold.
func (d *driver) Ping(context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return err
	}
	if _, err := os.Stat(d.path); err != nil {
		return fmt.Errorf("buntdb: ping: %w", err)
	}
	return nil
}

// Close closes the database. buntdb's background goroutine notices within a second and exits.
func (d *driver) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	// The adapter ends every transaction before Close; these are for a misbehaving caller, so
	// that buntdb's Close does not wait forever for a lock they hold.
	if d.readTx != nil && !d.wedged {
		_ = d.readTx.Rollback()
		d.readTx, d.readers = nil, 0
	}
	if d.writeTx != nil && !d.wedged {
		_ = d.writeTx.Rollback()
		d.writeTx = nil
	}
	var errs []error
	if err := d.closeDB(); err != nil {
		errs = append(errs, err)
	}
	if err := d.unlock(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("buntdb: close %s: %w", d.path, err)
	}
	return nil
}
