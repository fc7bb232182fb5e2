//go:build !linux

package rootfs

import (
	"os"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// Open flags os does not define: O_DSYNC becomes the stronger O_SYNC; O_DIRECTORY is checked
// after the open (by wazero) instead.
const (
	oDSYNC     = os.O_SYNC
	oDirectory = 0
)

// datasync falls back to a full sync.
func datasync(f *os.File) error { return f.Sync() }

// futimens is not implemented off Linux.
func futimens(*os.File, int64, int64) error {
	return experimentalsys.ENOSYS
}
