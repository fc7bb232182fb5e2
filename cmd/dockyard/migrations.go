package main

import (
	"cmp"
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/dockyard/dockyard/store"
	"github.com/spf13/cobra"
)

// migrationJSON is one applied migration in migrations --json.
type migrationJSON struct {
	ID        string    `json:"id"`
	Ordinal   int       `json:"ordinal"`
	AppliedAt time.Time `json:"applied_at"`
}

func (a *app) migrationsCommand() *cobra.Command {
	var sf storeFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "migrations",
		Short: "List the migrations applied to a store",
		Long: `migrations lists the migrations recorded as applied in the store (store.AppliedMigrations),
by ordinal: ordinal, ID and when it was applied (UTC). --json prints an array of
{"id","ordinal","applied_at"}.

Exit codes: 0 listed (even none); 1 the store failed; 2 usage error.`,
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
			var recs map[string]store.MigrationRecord
			err = s.View(ctx, func(tx store.Tx) error {
				var err error
				recs, err = store.AppliedMigrations(tx)
				return err
			})
			if err != nil {
				return fmt.Errorf("migrations: %w", err)
			}
			list := make([]migrationJSON, 0, len(recs))
			for id, r := range recs {
				list = append(list, migrationJSON{ID: id, Ordinal: r.Ordinal, AppliedAt: r.AppliedAt.UTC()})
			}
			slices.SortFunc(list, func(x, y migrationJSON) int {
				return cmp.Or(cmp.Compare(x.Ordinal, y.Ordinal), cmp.Compare(x.ID, y.ID))
			})
			if asJSON {
				return writeJSON(a.stdout, list)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ORDINAL\tID\tAPPLIED AT")
			for _, m := range list {
				fmt.Fprintf(tw, "%d\t%s\t%s\n", m.Ordinal, display(m.ID), m.AppliedAt.Format(time.RFC3339Nano))
			}
			return tw.Flush()
		}),
	}
	sf.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	return cmd
}
