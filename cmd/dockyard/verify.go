package main

import (
	"bytes"
	"context"

	"github.com/dockyard/dockyard/store"
)

// verifyNamespace compares ns in src and dst entry by entry, in key order, and fills in n's
// counts, hashes and differences. It calls seen with the number of source keys compared so
// far, a page's worth at a time (for the progress bar: a call per key would take the bar's lock
// per key).
func verifyNamespace(ctx context.Context, src, dst store.Store, ns string, n *copyNSJSON, seen func(keys int64)) error {
	sw, dw := newWalker(ctx, src, ns), newWalker(ctx, dst, ns)
	sh, dh := newEntryHash(), newEntryHash()
	n.SourceKeys, n.DestKeys, n.Missing, n.Extra, n.Different = 0, 0, 0, 0, 0
	s, sok, err := sw.next()
	if err != nil {
		return err
	}
	d, dok, err := dw.next()
	if err != nil {
		return err
	}
	for sok || dok {
		var advS, advD bool
		switch {
		case sok && (!dok || s.Key < d.Key):
			n.Missing++
			advS = true
		case dok && (!sok || d.Key < s.Key):
			n.Extra++
			advD = true
		default:
			if !bytes.Equal(s.Value, d.Value) {
				n.Different++
			}
			advS, advD = true, true
		}
		if advS {
			n.SourceKeys++
			if n.SourceKeys%scanPageSize == 0 {
				seen(scanPageSize)
			}
			sh.add(s)
			if s, sok, err = sw.next(); err != nil {
				return err
			}
		}
		if advD {
			n.DestKeys++
			dh.add(d)
			if d, dok, err = dw.next(); err != nil {
				return err
			}
		}
	}
	seen(n.SourceKeys % scanPageSize)
	n.SourceSHA256, n.DestSHA256 = sh.sum(), dh.sum()
	n.OK = n.Missing == 0 && n.Extra == 0 && n.Different == 0
	return nil
}
