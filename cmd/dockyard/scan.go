package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/dockyard/dockyard/store"
	"github.com/spf13/cobra"
)

// scanPageSize is how many entries scan, copy and the verifier ask for per page.
const scanPageSize = 512

func (a *app) scanCommand() *cobra.Command {
	var sf storeFlags
	var kf keyFlags
	var useHex, asJSON, keysOnly bool
	var limit int
	var after string
	cmd := &cobra.Command{
		Use:   "scan NAMESPACE [PREFIX]",
		Short: "List the keys (and values) of a namespace",
		Long: `scan lists the entries of NAMESPACE whose keys start with PREFIX, in byte order, reading
page by page inside one View (one consistent snapshot) so that any namespace fits.

Text output is one line per entry, KEY<TAB>VALUE, each shown as it is when printable and
Go-quoted otherwise; with --hex both in hex, with --hex-keys the keys (as --hex-keys arguments
are, so a listed key can be given back to get or --after). --json prints one JSON object per
line (JSON Lines) {"key","value"}, bytes in base64, or hex with --hex. --after KEY starts
after KEY (to continue a --limit'ed listing).

Exit codes: 0 listed (even nothing); 1 the store failed; 2 usage error.`,
		Args: args(cobra.RangeArgs(1, 2)),
		RunE: a.action(func(cmd *cobra.Command, argv []string) error {
			if limit < 0 {
				return usagef("--limit %d: must not be negative", limit)
			}
			ns, err := decodeArg("namespace", argv[0], kf.hexNS)
			if err != nil {
				return err
			}
			prefix := ""
			if len(argv) == 2 {
				if prefix, err = decodeArg("prefix", argv[1], kf.hexKeys); err != nil {
					return err
				}
			}
			cursor, err := decodeArg("--after key", after, kf.hexKeys)
			if err != nil {
				return err
			}
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
			w := bufio.NewWriter(a.stdout)
			n := 0
			err = s.View(ctx, func(tx store.Tx) error {
				for {
					want := scanPageSize
					if limit > 0 {
						want = min(want, limit-n)
					}
					page, more, err := store.ScanPage(tx, ns, prefix, cursor, want)
					if err != nil {
						return err
					}
					for _, kv := range page {
						if err := writeEntry(w, kv, entryFormat{hex: useHex, hexKeys: kf.hexKeys, json: asJSON, keysOnly: keysOnly}); err != nil {
							return err
						}
					}
					n += len(page)
					if !more || len(page) == 0 || (limit > 0 && n >= limit) {
						return nil
					}
					cursor = page[len(page)-1].Key
				}
			})
			if err != nil {
				return fmt.Errorf("scan: %w", err)
			}
			return w.Flush()
		}),
	}
	sf.register(cmd)
	kf.register(cmd)
	cmd.Flags().BoolVar(&useHex, "hex", false, "print keys and values in hex")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON Lines: one {\"key\",\"value\"} object per entry")
	cmd.Flags().BoolVar(&keysOnly, "keys-only", false, "print keys only")
	cmd.Flags().IntVar(&limit, "limit", 0, "print at most `N` entries (0: all)")
	cmd.Flags().StringVar(&after, "after", "", "start after this `KEY` (hex with --hex-keys)")
	return cmd
}

// scanEntry is one line of scan --json.
type scanEntry struct {
	Key   string  `json:"key"`
	Value *string `json:"value,omitempty"`
}

// entryFormat is how scan prints an entry: its flags --hex, --hex-keys, --json, --keys-only.
type entryFormat struct{ hex, hexKeys, json, keysOnly bool }

// writeEntry writes one scanned entry in the chosen format. In text, the key is in hex with
// --hex or --hex-keys (the form --hex-keys arguments take, so a listed key can be given back
// to get, delete or --after), else as display shows it; the value in hex with --hex.
func writeEntry(w *bufio.Writer, kv store.KeyValue, f entryFormat) error {
	if f.json {
		e := scanEntry{Key: encodeBytes([]byte(kv.Key), f.hex)}
		if !f.keysOnly {
			v := encodeBytes(kv.Value, f.hex)
			e.Value = &v
		}
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		w.Write(b)
		return w.WriteByte('\n')
	}
	key := showBytes(kv.Key, f.hex || f.hexKeys)
	if f.keysOnly {
		_, err := fmt.Fprintln(w, key)
		return err
	}
	value := display(string(kv.Value))
	if f.hex {
		value = hex.EncodeToString(kv.Value)
	}
	_, err := fmt.Fprintf(w, "%s\t%s\n", key, value)
	return err
}
