//go:build unix && !linux

package pluginhost

import (
	"bytes"
	"fmt"
	"os"

	"github.com/dockyard/dockyard/internal/regfile"
)

// sealedCopy: elsewhere the binary is hashed by its path and then executed by its path (a
// replacement in between is not detected). There is no sealed file: an interpreter is given
// the path.
func sealedCopy(path string, want []byte) (string, *os.File, func(), error) {
	sum, err := regfile.SHA256(path, MaxBinarySize)
	if err != nil {
		return "", nil, nil, fmt.Errorf("binary: %w", err)
	}
	if !bytes.Equal(sum, want) {
		return "", nil, nil, fmt.Errorf("%w: the binary's sha256 is %x, pinned %x", ErrChecksum, sum, want)
	}
	return path, nil, func() {}, nil
}
