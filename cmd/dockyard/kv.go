package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/dockyard/dockyard/store"
	"github.com/spf13/cobra"
)

func (a *app) getCommand() *cobra.Command {
	var sf storeFlags
	var kf keyFlags
	var useHex, asJSON bool
	cmd := &cobra.Command{
		Use:   "get NAMESPACE KEY",
		Short: "Print the value of a key",
		Long: `get writes the value of KEY in NAMESPACE to stdout: its raw bytes, nothing added, unless
--hex (lower-case hex and a newline) or --json ({"namespace","key","value"}, each base64, or hex
with --hex). An absent key prints "not found" to stderr and exits 1.

Exit codes: 0 found; 1 not found, or the store failed; 2 usage error.`,
		Example: `  dockyard get --driver sqlite --dsn app.db users ada > ada.bin
  dockyard get --driver sqlite --dsn app.db --hex-ns --hex-keys --hex 00ff 6b6579`,
		Args: args(cobra.ExactArgs(2)),
		RunE: a.action(func(cmd *cobra.Command, argv []string) error {
			ns, err := decodeArg("namespace", argv[0], kf.hexNS)
			if err != nil {
				return err
			}
			key, err := decodeArg("key", argv[1], kf.hexKeys)
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
			var v []byte
			err = s.View(ctx, func(tx store.Tx) error {
				var err error
				v, err = tx.Get(ns, key)
				return err
			})
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%w: key %s in namespace %s", errNotFound, kf.showKey(key), kf.showNS(ns))
			}
			if err != nil {
				return fmt.Errorf("get: %w", err)
			}
			switch {
			case asJSON:
				return writeJSON(a.stdout, map[string]string{
					"namespace": encodeBytes([]byte(ns), useHex),
					"key":       encodeBytes([]byte(key), useHex),
					"value":     encodeBytes(v, useHex),
				})
			case useHex:
				_, err = fmt.Fprintln(a.stdout, hex.EncodeToString(v))
			default:
				_, err = a.stdout.Write(v)
			}
			return err
		}),
	}
	sf.register(cmd)
	kf.register(cmd)
	cmd.Flags().BoolVar(&useHex, "hex", false, "print the value in hex (with --json: encode bytes in hex, not base64)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON object")
	return cmd
}

func (a *app) putCommand() *cobra.Command {
	var sf storeFlags
	var kf keyFlags
	var useHex, reserved bool
	cmd := &cobra.Command{
		Use:   "put NAMESPACE KEY [VALUE]",
		Short: "Set the value of a key",
		Long: `put sets KEY in NAMESPACE to VALUE, or, when VALUE is not given, to everything read from
stdin (binary-safe; at most 4 MiB). With --hex the value (argument or stdin) is hex, white space
ignored. Writing to Dockyard's reserved namespaces ("\x00dockyard/...") needs --reserved.

Exit codes: 0 written; 1 the store failed; 2 usage error.`,
		Example: `  dockyard put --driver sqlite --dsn app.db users ada 'Ada Lovelace'
  head -c 16 /dev/urandom | dockyard put --driver sqlite --dsn app.db --hex-ns --hex-keys 00ff 6b6579`,
		Args: args(cobra.RangeArgs(2, 3)),
		RunE: a.action(func(cmd *cobra.Command, argv []string) error {
			ns, err := decodeArg("namespace", argv[0], kf.hexNS)
			if err != nil {
				return err
			}
			key, err := decodeArg("key", argv[1], kf.hexKeys)
			if err != nil {
				return err
			}
			if isReserved(ns) && !reserved {
				return usagef("namespace %s is reserved for Dockyard; give --reserved to write to it anyway", kf.showNS(ns))
			}
			var v []byte
			if len(argv) == 3 {
				v = []byte(argv[2])
			} else {
				if v, err = io.ReadAll(io.LimitReader(a.stdin, 2*store.MaxValueSize+1)); err != nil {
					return fmt.Errorf("read the value from stdin: %w", err)
				}
			}
			if useHex {
				if v, err = decodeHexValue(v); err != nil {
					return err
				}
			}
			if len(v) > store.MaxValueSize {
				return fmt.Errorf("value of more than %d bytes: %w", store.MaxValueSize, store.ErrTooLarge)
			}
			ctx := cmd.Context()
			driver, dsn, err := sf.spec()
			if err != nil {
				return err
			}
			s, t, err := a.openStore(ctx, driver, dsn)
			if err != nil {
				return err
			}
			defer t.Close()
			defer s.Close()
			if err := s.Update(ctx, func(tx store.Tx) error { return tx.Put(ns, key, v) }); err != nil {
				return fmt.Errorf("put: %w", err)
			}
			return s.Close()
		}),
	}
	sf.register(cmd)
	kf.register(cmd)
	cmd.Flags().BoolVar(&useHex, "hex", false, "the value is hex-encoded")
	cmd.Flags().BoolVar(&reserved, "reserved", false, "allow writing to a reserved namespace")
	return cmd
}

func (a *app) deleteCommand() *cobra.Command {
	var sf storeFlags
	var kf keyFlags
	var force, reserved bool
	cmd := &cobra.Command{
		Use:   "delete NAMESPACE KEY",
		Short: "Delete a key",
		Long: `delete removes KEY from NAMESPACE. An absent key is "not found", exit code 1, unless
--force. Deleting from Dockyard's reserved namespaces needs --reserved.

Exit codes: 0 deleted (or absent, with --force); 1 not found, or the store failed; 2 usage error.`,
		Args: args(cobra.ExactArgs(2)),
		RunE: a.action(func(cmd *cobra.Command, argv []string) error {
			ns, err := decodeArg("namespace", argv[0], kf.hexNS)
			if err != nil {
				return err
			}
			key, err := decodeArg("key", argv[1], kf.hexKeys)
			if err != nil {
				return err
			}
			if isReserved(ns) && !reserved {
				return usagef("namespace %s is reserved for Dockyard; give --reserved to delete from it anyway", kf.showNS(ns))
			}
			ctx := cmd.Context()
			driver, dsn, err := sf.spec()
			if err != nil {
				return err
			}
			s, t, err := a.openStore(ctx, driver, dsn)
			if err != nil {
				return err
			}
			defer t.Close()
			defer s.Close()
			err = s.Update(ctx, func(tx store.Tx) error {
				if _, err := tx.Get(ns, key); err != nil {
					if errors.Is(err, store.ErrNotFound) && force {
						return nil
					}
					return err
				}
				return tx.Delete(ns, key)
			})
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%w: key %s in namespace %s", errNotFound, kf.showKey(key), kf.showNS(ns))
			}
			if err != nil {
				return fmt.Errorf("delete: %w", err)
			}
			return s.Close()
		}),
	}
	sf.register(cmd)
	kf.register(cmd)
	cmd.Flags().BoolVarP(&force, "force", "f", false, "an absent key is not an error")
	cmd.Flags().BoolVar(&reserved, "reserved", false, "allow deleting from a reserved namespace")
	return cmd
}

// writeJSON writes v as indented JSON and a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
