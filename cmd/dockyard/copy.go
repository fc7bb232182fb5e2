package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dockyard/dockyard/store"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

// copyNSJSON is one namespace in the copy summary.
type copyNSJSON struct {
	Namespace    string `json:"namespace"` // base64
	Display      string `json:"display"`
	SourceKeys   int64  `json:"source_keys"`
	DestKeys     int64  `json:"dest_keys"`
	Written      int64  `json:"written"`   // keys put in the destination
	Unchanged    int64  `json:"unchanged"` // keys the destination already held with the same value
	Bytes        int64  `json:"bytes"`     // key and value bytes read from the source
	Pruned       int64  `json:"pruned"`    // destination keys absent from the source, deleted (--prune)
	Missing      int64  `json:"missing"`   // source keys absent from the destination at verification
	Extra        int64  `json:"extra"`     // destination keys absent from the source at verification
	Different    int64  `json:"different"` // keys whose values differ at verification
	SourceSHA256 string `json:"source_sha256"`
	DestSHA256   string `json:"dest_sha256"`
	OK           bool   `json:"ok"`
}

// copyJSON is the copy summary (--json).
type copyJSON struct {
	From       string       `json:"from"` // driver names only: DSNs may hold passwords
	To         string       `json:"to"`
	Namespaces []copyNSJSON `json:"namespaces"`
	Keys       int64        `json:"keys"`
	Bytes      int64        `json:"bytes"`
	Written    int64        `json:"written"`
	Unchanged  int64        `json:"unchanged"`
	Pruned     int64        `json:"pruned"`
	DurationNS int64        `json:"duration_ns"`
	OK         bool         `json:"ok"`
}

func (a *app) copyCommand() *cobra.Command {
	var from, to string
	var batch int
	var prune, asJSON bool
	cmd := &cobra.Command{
		Use:   "copy --from DRIVER:DSN --to DRIVER:DSN",
		Short: "Copy every namespace of one store into another, and verify",
		Long: `copy copies every namespace of the source store into the destination, e.g. from sqlite to a
bigger backend. DRIVER:DSN is split at the first ':', so DSNs may hold colons
(postgres:postgres://u:p@host/db, etcd:etcd://host:port,host:port/prefix). DRIVER may be a
driver name, a manifest or an artifact.

What is copied: every namespace in the source's catalog, Dockyard's reserved ones included (the
migration records travel, so the application does not run its migrations again on the
destination), except the catalog itself, which the destination rebuilds as it is written.

How: the source is read in batches of --batch keys, each in a View of its own; each batch is
one Update on the destination. A destination key that already holds the source's value is
left as it is ("unchanged"), so copy is safe to re-run, and re-running an interrupted copy
resumes it cheaply: it writes only what is missing or different.

Keys only in the destination: left alone, unless --prune, which deletes them (making each
copied namespace an exact copy). Either way they are reported, and without --prune they fail
the verification: after copy, the destination's namespace is not what the source's is.
Namespaces only in the destination are neither touched nor checked.

Verification: after copying, every namespace is read again on both sides, in key order, and
compared entry by entry: key counts and a sha256 of keys and values per namespace are printed,
and any key missing, extra or different fails the command (exit 1). The source should not be
written to during a copy: the verification reports what changed meanwhile.

Progress goes to stderr when it is a terminal (or --progress): the source's keys are counted
first, so the bars (keys copied, with the bytes so far, then keys verified) have a total and
an ETA.

Exit codes: 0 copied and verified; 1 a store failed or the verification found differences;
2 usage error.`,
		Example: `  dockyard copy --from sqlite:./app.db --to buntdb:./app.bunt
  dockyard copy --from sqlite:./app.db --to postgres:postgres://app@db/app --batch 2000 --json
  dockyard copy --from sqlite:./app.db --to etcd:etcd://etcd1:2379,etcd2:2379,etcd3:2379/app`,
		Args: args(cobra.NoArgs),
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			if batch <= 0 {
				return usagef("--batch %d: must be positive", batch)
			}
			if from == "" || to == "" {
				return usagef("copy needs --from DRIVER:DSN and --to DRIVER:DSN")
			}
			srcDriver, srcDSN, err := splitDriverDSN("--from", from)
			if err != nil {
				return err
			}
			dstDriver, dstDSN, err := splitDriverDSN("--to", to)
			if err != nil {
				return err
			}
			if from == to {
				return usagef("--from and --to are the same store")
			}
			ctx := cmd.Context()
			src, st, err := a.openExisting(ctx, srcDriver, srcDSN)
			if err != nil {
				return fmt.Errorf("source: %w", err)
			}
			defer st.Close()
			defer src.Close()
			dst, dt, err := a.openStore(ctx, dstDriver, dstDSN)
			if err != nil {
				return fmt.Errorf("destination: %w", err)
			}
			defer dt.Close()
			defer dst.Close()
			c := &copier{a: a, src: src, dst: dst, batch: batch, prune: prune}
			sum, err := c.run(ctx)
			if err != nil {
				return err
			}
			sum.From, sum.To = st.Name, dt.Name
			if err := dst.Close(); err != nil {
				return fmt.Errorf("destination: close: %w", err)
			}
			if asJSON {
				if err := writeJSON(a.stdout, sum); err != nil {
					return err
				}
			} else {
				a.printCopy(sum)
			}
			if !sum.OK {
				return errors.New("copy: verification failed: " + mismatches(sum))
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "the source store, `DRIVER:DSN`")
	f.StringVar(&to, "to", "", "the destination store, `DRIVER:DSN`")
	f.IntVar(&batch, "batch", 1000, "keys per destination Update")
	f.BoolVar(&prune, "prune", false, "delete destination keys that the source does not have, in the copied namespaces")
	f.BoolVar(&asJSON, "json", false, "print the summary as JSON")
	return cmd
}

// copier copies one store into another.
type copier struct {
	a        *app
	src, dst store.Store
	batch    int
	prune    bool
	bar      *bar
}

// run copies, prunes if asked, and verifies every namespace of the source.
func (c *copier) run(ctx context.Context) (*copyJSON, error) {
	start := time.Now()
	var names []string
	err := c.src.View(ctx, func(tx store.Tx) error {
		var err error
		names, err = store.Namespaces(tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("source: list namespaces: %w", err)
	}
	sum := &copyJSON{Namespaces: []copyNSJSON{}, OK: true}
	total, err := c.countForBar(ctx, names)
	if err != nil {
		return nil, err
	}
	c.bar = c.a.newBar(total, "copying", progressbar.OptionSetItsString("keys"))
	for _, ns := range names {
		n := copyNSJSON{Namespace: encodeBytes([]byte(ns), false), Display: display(ns)}
		if err := c.copyNamespace(ctx, ns, &n, sum); err != nil {
			return nil, fmt.Errorf("copy namespace %s: %w", display(ns), err)
		}
		if c.prune {
			if err := c.pruneNamespace(ctx, ns, &n); err != nil {
				return nil, fmt.Errorf("prune namespace %s: %w", display(ns), err)
			}
		}
		sum.Namespaces = append(sum.Namespaces, n)
	}
	c.bar.finish()
	c.bar = c.a.newBar(total, "verifying", progressbar.OptionSetItsString("keys"))
	defer c.bar.finish()
	for i := range sum.Namespaces {
		n := &sum.Namespaces[i]
		if err := verifyNamespace(ctx, c.src, c.dst, names[i], n, c.bar.add); err != nil {
			return nil, fmt.Errorf("verify namespace %s: %w", n.Display, err)
		}
		sum.Keys += n.SourceKeys
		sum.Bytes += n.Bytes
		sum.Written += n.Written
		sum.Unchanged += n.Unchanged
		sum.Pruned += n.Pruned
		sum.OK = sum.OK && n.OK
	}
	sum.DurationNS = int64(time.Since(start))
	return sum, nil
}

// copyNamespace copies ns batch by batch.
func (c *copier) copyNamespace(ctx context.Context, ns string, n *copyNSJSON, sum *copyJSON) error {
	after := ""
	for {
		var page []store.KeyValue
		var more bool
		err := c.src.View(ctx, func(tx store.Tx) error {
			var err error
			page, more, err = readBatch(tx, ns, after, c.batch)
			return err
		})
		if err != nil {
			return fmt.Errorf("source: read after key %s: %w", display(after), err)
		}
		if len(page) == 0 {
			return nil
		}
		var written, unchanged int64
		err = c.dst.Update(ctx, func(tx store.Tx) error {
			written, unchanged = 0, 0
			for _, kv := range page {
				old, err := tx.Get(ns, kv.Key)
				switch {
				case err == nil && bytes.Equal(old, kv.Value):
					unchanged++
					continue
				case err != nil && !errors.Is(err, store.ErrNotFound):
					return err
				}
				if err := tx.Put(ns, kv.Key, kv.Value); err != nil {
					return fmt.Errorf("put key %s: %w", display(kv.Key), err)
				}
				written++
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("destination: write a batch of %d keys from key %s: %w", len(page), display(page[0].Key), err)
		}
		var size int64
		for _, kv := range page {
			size += int64(len(kv.Key) + len(kv.Value))
		}
		n.Written += written
		n.Unchanged += unchanged
		n.Bytes += size
		c.progress(sum, n, int64(len(page)))
		if !more {
			return nil
		}
		after = page[len(page)-1].Key
	}
}

// pruneNamespace deletes the keys of ns in the destination that the source does not have.
func (c *copier) pruneNamespace(ctx context.Context, ns string, n *copyNSJSON) error {
	after := ""
	for {
		var page []store.KeyValue
		var more bool
		err := c.dst.View(ctx, func(tx store.Tx) error {
			var err error
			page, more, err = readBatch(tx, ns, after, c.batch)
			return err
		})
		if err != nil {
			return fmt.Errorf("destination: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		var extra []string
		err = c.src.View(ctx, func(tx store.Tx) error {
			for _, kv := range page {
				if _, err := tx.Get(ns, kv.Key); errors.Is(err, store.ErrNotFound) {
					extra = append(extra, kv.Key)
				} else if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("source: %w", err)
		}
		if len(extra) > 0 {
			err = c.dst.Update(ctx, func(tx store.Tx) error {
				for _, k := range extra {
					if err := tx.Delete(ns, k); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("destination: delete %d keys: %w", len(extra), err)
			}
			n.Pruned += int64(len(extra))
		}
		if !more {
			return nil
		}
		after = page[len(page)-1].Key
	}
}

// printCopy prints the copy summary as text.
func (a *app) printCopy(sum *copyJSON) {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tSOURCE KEYS\tDEST KEYS\tWRITTEN\tUNCHANGED\tPRUNED\tBYTES\tSHA256\tSTATUS")
	for _, n := range sum.Namespaces {
		status := "ok"
		if !n.OK {
			status = "MISMATCH"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%.16s\t%s\n", n.Display, n.SourceKeys, n.DestKeys, n.Written, n.Unchanged, n.Pruned, n.Bytes, n.SourceSHA256, status)
	}
	tw.Flush()
	verdict := "verified: every namespace matches"
	if !sum.OK {
		verdict = "verification FAILED"
	}
	fmt.Fprintf(a.stdout, "%s -> %s: %d namespaces, %d keys (%d written, %d unchanged, %d pruned), %s in %s; %s\n",
		sum.From, sum.To, len(sum.Namespaces), sum.Keys, sum.Written, sum.Unchanged, sum.Pruned, humanBytes(sum.Bytes),
		fmtDuration(time.Duration(sum.DurationNS)), verdict)
}

// mismatches says which namespaces failed the verification, and how.
func mismatches(sum *copyJSON) string {
	var parts []string
	for _, n := range sum.Namespaces {
		if n.OK {
			continue
		}
		var what []string
		if n.Missing > 0 {
			what = append(what, fmt.Sprintf("%d keys missing from the destination", n.Missing))
		}
		if n.Extra > 0 {
			what = append(what, fmt.Sprintf("%d keys only in the destination (--prune deletes them)", n.Extra))
		}
		if n.Different > 0 {
			what = append(what, fmt.Sprintf("%d keys with different values", n.Different))
		}
		parts = append(parts, fmt.Sprintf("namespace %s: %s", n.Display, strings.Join(what, ", ")))
	}
	return strings.Join(parts, "; ")
}

// humanBytes formats n bytes with a binary unit.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
