package host

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/dockyard/dockyard/host/artifact"
)

// ByteSize is a number of bytes, as a manifest writes it: see artifact.ByteSize.
type ByteSize = artifact.ByteSize

// Binary size units.
const (
	KiB = artifact.KiB
	MiB = artifact.MiB
	GiB = artifact.GiB
)

// ParseByteSize parses a size string as a manifest's memory_limit does: "256MiB", "64 KiB",
// "1048576".
func ParseByteSize(s string) (ByteSize, error) { return artifact.ParseByteSize(s) }

// parseByteSizeJSON parses a JSON value that is either an integer number of bytes or a size
// string.
func parseByteSizeJSON(raw []byte) (ByteSize, error) {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := unmarshalString(raw, &s); err != nil {
			return 0, err
		}
		return ParseByteSize(s)
	}
	if len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		if raw[0] == '-' {
			return 0, errors.New("must not be negative")
		}
		n, err := strconv.ParseUint(string(raw), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s is not a whole number of bytes", raw)
		}
		return ByteSize(n), nil
	}
	return 0, fmt.Errorf("must be a number of bytes or a size string such as \"256MiB\", not %s", describeJSON(raw))
}
