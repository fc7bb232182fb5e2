package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"

	"github.com/dockyard/dockyard/store"
)

// readBatch reads up to n entries of ns after the key after, inside tx, asking for as many
// pages as it takes (a driver's page may be shorter than asked), and reports whether more may
// follow.
func readBatch(tx store.Tx, ns, after string, n int) ([]store.KeyValue, bool, error) {
	var out []store.KeyValue
	for len(out) < n {
		page, more, err := store.ScanPage(tx, ns, "", after, n-len(out))
		if err != nil {
			return nil, false, err
		}
		out = append(out, page...)
		if !more || len(page) == 0 {
			return out, false, nil
		}
		after = page[len(page)-1].Key
	}
	return out, true, nil
}

// walker iterates over the entries of one namespace in key order, reading a page at a time,
// each page in a View of its own (so a walk never holds a transaction open for long).
type walker struct {
	ctx   context.Context
	s     store.Store
	ns    string
	after string
	buf   []store.KeyValue
	more  bool
	read  bool // a page has been read
}

func newWalker(ctx context.Context, s store.Store, ns string) *walker {
	return &walker{ctx: ctx, s: s, ns: ns}
}

// next returns the next entry, or ok == false at the end.
func (w *walker) next() (kv store.KeyValue, ok bool, err error) {
	if len(w.buf) == 0 {
		if w.read && !w.more {
			return kv, false, nil
		}
		err := w.s.View(w.ctx, func(tx store.Tx) error {
			var err error
			w.buf, w.more, err = readBatch(tx, w.ns, w.after, scanPageSize)
			return err
		})
		if err != nil {
			return kv, false, err
		}
		w.read = true
		if len(w.buf) == 0 {
			w.more = false
			return kv, false, nil
		}
		w.after = w.buf[len(w.buf)-1].Key
	}
	kv, w.buf = w.buf[0], w.buf[1:]
	return kv, true, nil
}

// entryHash is a running sha256 of a namespace's entries in key order: each entry is its key's
// length (uvarint), the key, its value's length (uvarint) and the value, so two namespaces
// hash alike exactly when they hold the same entries.
type entryHash struct {
	h   hash.Hash
	buf [binary.MaxVarintLen64]byte
}

func newEntryHash() *entryHash { return &entryHash{h: sha256.New()} }

func (e *entryHash) add(kv store.KeyValue) {
	e.h.Write(e.buf[:binary.PutUvarint(e.buf[:], uint64(len(kv.Key)))])
	e.h.Write([]byte(kv.Key))
	e.h.Write(e.buf[:binary.PutUvarint(e.buf[:], uint64(len(kv.Value)))])
	e.h.Write(kv.Value)
}

func (e *entryHash) sum() string { return hex.EncodeToString(e.h.Sum(nil)) }
