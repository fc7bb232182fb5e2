package rootfs

import (
	"io/fs"
	"log/slog"
	"os"
	"sync/atomic"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"
)

// Quota bounds the bytes of the files in one data directory, shared by every instance that
// mounts it. It counts sizes, not blocks: a sparse file counts at its full length, so a
// guest cannot slip past it by seeking far and writing one byte. A write or truncate that
// would take the total past max fails with EIO (wazero's errors have no ENOSPC), and is
// logged once.
type Quota struct {
	max    int64
	used   atomic.Int64
	warned atomic.Bool
	log    *slog.Logger
	module string
}

// NewQuota returns the quota of the directory root, counting what it holds already.
func NewQuota(root *os.Root, max int64, log *slog.Logger, module string) *Quota {
	q := &Quota{max: max, log: log, module: module}
	_ = fs.WalkDir(root.FS(), ".", func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				q.used.Add(fi.Size())
			}
		}
		return nil
	})
	return q
}

// grow reserves n more bytes, or reports EIO if that would pass the quota.
func (q *Quota) grow(n int64) experimentalsys.Errno {
	if q == nil || n <= 0 {
		return 0
	}
	for {
		used := q.used.Load()
		if used+n > q.max {
			if !q.warned.Swap(true) {
				q.log.Warn("wasm guest reached its disk quota; writes past it fail with EIO",
					"module", q.module, "quota", q.max, "used", used)
			}
			return experimentalsys.EIO
		}
		if q.used.CompareAndSwap(used, used+n) {
			return 0
		}
	}
}

// shrink gives back n bytes.
func (q *Quota) shrink(n int64) {
	if q != nil && n > 0 {
		q.used.Add(-n)
	}
}

// freed gives back the bytes of the file at path if removing or replacing its name frees them
// (a regular file with no other link). Called before the name goes; given back only if done.
func (q *Quota) freed(root *os.Root, path string) (bytes int64) {
	if q == nil {
		return 0
	}
	fi, err := root.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || sys.NewStat_t(fi).Nlink > 1 {
		return 0
	}
	return fi.Size()
}
