package pdk

// PrefixEnd returns the smallest byte string greater than every string with the given prefix:
// the prefix with its trailing 0xff bytes dropped and its last byte incremented. A driver
// scanning an ordered index turns a prefix into the range prefix <= key < end, so a prefix is
// a byte prefix ('%', '_' and '\' are ordinary bytes, and no LIKE is needed). ok is false when
// there is no such string (the prefix is empty or all 0xff): the range then has no upper bound.
func PrefixEnd(prefix string) (end string, ok bool) {
	b := []byte(prefix)
	for len(b) > 0 && b[len(b)-1] == 0xff {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return "", false
	}
	b[len(b)-1]++
	return string(b), true
}
