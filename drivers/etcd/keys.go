package etcd

import (
	"encoding/binary"
	"strings"

	"github.com/dockyard/dockyard/pdk"
)

// layout names the etcd keys of one store, all under its prefix P (the DSN's path) and a '/':
//
//	P/meta/schema      the schema version, in decimal (schema.go)
//	P/meta/commit      rewritten by every commit: the writers' fence (txn.go)
//	P/lock/<id>        one key per writer waiting for or holding the lock, leased (lock.go)
//	P/d<n><ns><key>    the data: n is len(ns) as two big-endian bytes
//
// The data key puts the namespace's length before its bytes, so that every namespace is one
// contiguous byte range whatever bytes it holds (no separator can be escaped or confused), and
// keys within it sort by plain byte order, which is etcd's order: a prefix scan is one range
// [P/d<n><ns><prefix>, its pdk.PrefixEnd).
type layout struct {
	root   string // P + "/"
	schema string
	commit string
	lock   string // the lock queue's prefix
	data   string
}

func newLayout(prefix string) layout {
	root := prefix + "/"
	return layout{
		root:   root,
		schema: root + "meta/schema",
		commit: root + "meta/commit",
		lock:   root + "lock/",
		data:   root + "d",
	}
}

// nsPrefix returns the prefix of every data key of namespace ns.
func (l layout) nsPrefix(ns string) string {
	var b strings.Builder
	b.Grow(len(l.data) + 2 + len(ns))
	b.WriteString(l.data)
	var n [2]byte
	binary.BigEndian.PutUint16(n[:], uint16(len(ns)))
	b.Write(n[:])
	b.WriteString(ns)
	return b.String()
}

// dataKey returns the etcd key of (ns, key).
func (l layout) dataKey(ns, key string) string { return l.nsPrefix(ns) + key }

// scanRange returns the etcd key range [from, end) of the keys of ns that start with prefix and
// are greater than after; empty reports that no key can be in it.
func (l layout) scanRange(ns, prefix, after string) (from, end string, empty bool) {
	nsp := l.nsPrefix(ns)
	from = nsp + prefix
	if after != "" && after >= prefix {
		from = nsp + after + "\x00" // the smallest key greater than after
	}
	if e, ok := pdk.PrefixEnd(prefix); ok {
		end = nsp + e
	} else {
		end, _ = pdk.PrefixEnd(nsp) // the namespace's length bytes make nsp never all 0xff
	}
	return from, end, from >= end
}

// userKey returns the store key of the data key k of namespace prefix nsp.
func userKey(nsp, k string) string { return k[len(nsp):] }
