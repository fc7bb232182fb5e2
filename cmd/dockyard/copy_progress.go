package main

import (
	"context"
	"fmt"

	"github.com/dockyard/dockyard/store"
)

// countForBar is the total of copy's bars: the keys of every namespace to copy, counted
// before copying so that the bar shows how far the copy is and an ETA instead of a spinner.
// The count reads the source once more, a View per namespace (reads only, no Update), and only
// when a bar is drawn: without one it returns -1 and costs nothing.
func (c *copier) countForBar(ctx context.Context, names []string) (int64, error) {
	if !c.a.progressOn() {
		return -1, nil
	}
	var total int64
	for _, ns := range names {
		var n int64
		err := c.src.View(ctx, func(tx store.Tx) error {
			var err error
			n, err = countKeys(ctx, tx, ns)
			return err
		})
		if err != nil {
			return 0, fmt.Errorf("source: %w", err)
		}
		total += n
	}
	return total, nil
}

// progress advances the bar by keys and shows the bytes copied so far.
func (c *copier) progress(sum *copyJSON, n *copyNSJSON, keys int64) {
	if c.bar == nil {
		return
	}
	var bytes int64
	for _, done := range sum.Namespaces {
		bytes += done.Bytes
	}
	c.bar.describe(fmt.Sprintf("copying %s, %s", n.Display, humanBytes(bytes+n.Bytes)))
	c.bar.add(keys)
}
