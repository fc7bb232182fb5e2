package buntdb

import "strings"

// The key encoding. A (namespace, key) pair becomes one buntdb key,
//
//	escape(ns) 0x00 0x01 key
//
// where escape replaces every 0x00 byte of ns with 0x00 0xFF. buntdb orders keys by plain Go
// string comparison (byte order), and under this encoding byte order of encoded keys is
// exactly the order of (ns, key) pairs: namespaces first, byte-wise, then keys, byte-wise.
//
// Why: escape(ns)+terminator is prefix-free (no namespace's prefix is a prefix of another
// namespace's), so two encoded keys with different namespaces differ inside that prefix, where
// the escaping keeps the byte order of the namespaces: a 0x00 of ns becomes 0x00 0xFF, which is
// above the terminator 0x00 0x01 (a shorter namespace sorts first) and below any non-zero byte
// (0x00 still sorts below 0x01..0xFF). Two encoded keys with the same namespace share the
// prefix and compare by their raw keys. The keys of one namespace, and the keys of one
// namespace that start with a given prefix, are therefore one contiguous range of buntdb keys:
// a scan is a single ascending walk from a lower bound to the first key outside the prefix.
//
// Keys the driver keeps for itself ("meta" keys) start with 0x00 0x02. No encoded user key
// starts so: a namespace is never empty, so an encoded key starts with a non-zero byte or with
// 0x00 0xFF.
const (
	escByte   = 0x00 // the byte that is escaped in a namespace
	escSecond = 0xFF // escByte escSecond stands for a 0x00 of the namespace
	termByte2 = 0x01 // escByte termByte2 ends the namespace
	metaByte2 = 0x02 // escByte metaByte2 starts the driver's own keys
)

// nsPrefix returns escape(ns) followed by the terminator: the common prefix of every encoded
// key of ns.
func nsPrefix(ns string) string {
	n := strings.Count(ns, "\x00")
	var b strings.Builder
	b.Grow(len(ns) + n + 2)
	for i := 0; i < len(ns); i++ {
		c := ns[i]
		b.WriteByte(c)
		if c == escByte {
			b.WriteByte(escSecond)
		}
	}
	b.WriteByte(escByte)
	b.WriteByte(termByte2)
	return b.String()
}

// encodeKey returns the buntdb key of (ns, key).
func encodeKey(ns, key string) string { return nsPrefix(ns) + key }

// decodeKey splits a buntdb key back into (ns, key). ok is false for a meta key or a string
// that is not an encoded key.
func decodeKey(k string) (ns, key string, ok bool) {
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c != escByte {
			b.WriteByte(c)
			continue
		}
		if i+1 == len(k) {
			return "", "", false
		}
		switch k[i+1] {
		case escSecond:
			b.WriteByte(escByte)
			i++
		case termByte2:
			if b.Len() == 0 {
				return "", "", false
			}
			return b.String(), k[i+2:], true
		default:
			return "", "", false
		}
	}
	return "", "", false
}

// Meta keys: the driver's own records in the database file (see file.go).
const (
	metaPrefix = "\x00\x02"
	// formatKey is the first record of every database file; its value is formatValue.
	formatKey = metaPrefix + "dockyard/format"
	// commitKey is written by every transaction that changes data; its value is the number of
	// records the transaction wrote, itself included.
	commitKey = metaPrefix + "dockyard/commit"
)

func isMeta(k string) bool { return strings.HasPrefix(k, metaPrefix) }
