package host

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
)

// ByteSize is a number of bytes. In a manifest it is a JSON integer (bytes) or a string: an
// integer with an optional binary unit, "B", "KiB", "MiB" or "GiB", optionally separated by one
// space ("256MiB", "64 KiB", "1048576"). Decimal units (KB, MB, GB) are refused: they are
// ambiguous, and a wasm memory is counted in 64 KiB pages anyway.
type ByteSize uint64

// Binary size units.
const (
	KiB ByteSize = 1 << 10
	MiB ByteSize = 1 << 20
	GiB ByteSize = 1 << 30
)

var sizeUnits = map[string]ByteSize{"": 1, "B": 1, "KiB": KiB, "MiB": MiB, "GiB": GiB}

var sizeRE = regexp.MustCompile(`^([0-9]+) ?([A-Za-z]*)$`)

// ParseByteSize parses a size string as a manifest's memory_limit does: "256MiB", "64 KiB",
// "1048576".
func ParseByteSize(s string) (ByteSize, error) {
	if len(s) > 0 && s[0] == '-' {
		return 0, errors.New("must not be negative")
	}
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a size: want bytes, or a number with a unit B, KiB, MiB or GiB, e.g. \"256MiB\"", s)
	}
	unit, ok := sizeUnits[m[2]]
	if !ok {
		return 0, fmt.Errorf("%q: unknown unit %q (want B, KiB, MiB or GiB)", s, m[2])
	}
	n, err := strconv.ParseUint(m[1], 10, 64)
	if err != nil || n > (1<<64-1)/uint64(unit) {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return ByteSize(n) * unit, nil
}

// String formats the size in the largest binary unit that divides it: "256MiB", "1000B".
func (b ByteSize) String() string {
	for _, u := range []struct {
		name string
		size ByteSize
	}{{"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB}} {
		if b >= u.size && b%u.size == 0 {
			return strconv.FormatUint(uint64(b/u.size), 10) + u.name
		}
	}
	return strconv.FormatUint(uint64(b), 10) + "B"
}

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
