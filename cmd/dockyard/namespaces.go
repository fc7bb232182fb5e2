package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/dockyard/dockyard/store"
	"github.com/spf13/cobra"
)

// namespaceJSON is one namespace in namespaces --json.
type namespaceJSON struct {
	Namespace string `json:"namespace"` // base64 (hex with --hex)
	Display   string `json:"display"`   // as the text output shows it
	Reserved  bool   `json:"reserved"`
	Keys      *int64 `json:"keys,omitempty"` // with --count
}

func (a *app) namespacesCommand() *cobra.Command {
	var sf storeFlags
	var all, count, asJSON, useHex bool
	cmd := &cobra.Command{
		Use:   "namespaces",
		Short: "List the namespaces of a store",
		Long: `namespaces lists, in byte order, every namespace ever written to in the store (as recorded in
its namespace catalog, store.NamespaceCatalog; a namespace stays listed after its last key is
deleted). Dockyard's reserved namespaces ("\x00dockyard/...", e.g. the migration records) are
hidden unless --all. --count adds the number of keys of each (a scan of every namespace).

Text output shows a namespace as it is when printable, Go-quoted otherwise (--hex: in hex).
--json prints an array of {"namespace" (base64, or hex with --hex), "display", "reserved",
"keys" (with --count)}.

Exit codes: 0 listed; 1 the store failed; 2 usage error.`,
		Args: args(cobra.NoArgs),
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			driver, dsn, err := sf.spec()
			if err != nil {
				return err
			}
			s, t, err := a.openExisting(ctx, driver, dsn)
			if err != nil {
				return err
			}
			defer t.Close()
			defer s.Close()
			var list []namespaceJSON
			err = s.View(ctx, func(tx store.Tx) error {
				names, err := store.Namespaces(tx)
				if err != nil {
					return err
				}
				for _, ns := range names {
					if isReserved(ns) && !all {
						continue
					}
					e := namespaceJSON{Namespace: encodeBytes([]byte(ns), useHex), Display: display(ns), Reserved: isReserved(ns)}
					if useHex && !asJSON {
						e.Display = showBytes(ns, true)
					}
					if count {
						n, err := countKeys(ctx, tx, ns)
						if err != nil {
							return err
						}
						e.Keys = &n
					}
					list = append(list, e)
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("namespaces: %w", err)
			}
			if asJSON {
				if list == nil {
					list = []namespaceJSON{}
				}
				return writeJSON(a.stdout, list)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			for _, e := range list {
				if e.Keys != nil {
					fmt.Fprintf(tw, "%s\t%d\n", e.Display, *e.Keys)
				} else {
					fmt.Fprintln(tw, e.Display)
				}
			}
			return tw.Flush()
		}),
	}
	sf.register(cmd)
	cmd.Flags().BoolVar(&all, "all", false, "include Dockyard's reserved namespaces")
	cmd.Flags().BoolVar(&count, "count", false, "count the keys of each namespace")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	cmd.Flags().BoolVar(&useHex, "hex", false, "show namespaces in hex")
	return cmd
}

// countKeys counts the keys of ns, page by page, inside tx.
func countKeys(ctx context.Context, tx store.Tx, ns string) (int64, error) {
	var n int64
	after := ""
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		page, more, err := store.ScanPage(tx, ns, "", after, scanPageSize)
		if err != nil {
			return n, fmt.Errorf("count the keys of namespace %s: %w", display(ns), err)
		}
		n += int64(len(page))
		if !more || len(page) == 0 {
			return n, nil
		}
		after = page[len(page)-1].Key
	}
}
