package main

import (
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// storeFlags are the flags of every command that works on one store.
type storeFlags struct {
	driver string
	dsn    string
	store  string
}

// EnvStore names the store a command works on when it is given none: DRIVER:DSN.
const EnvStore = "DOCKYARD_STORE"

func (f *storeFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.driver, "driver", "", "the driver: a registered `NAME`, a manifest (.json) or an artifact (.wasm, plugin binary)")
	cmd.Flags().StringVar(&f.dsn, "dsn", "", "the store's data source name (sqlite: a file; buntdb: a directory; inmem: ignored)")
	cmd.Flags().StringVar(&f.store, "store", "", "the store as one `DRIVER:DSN` (instead of --driver and --dsn; default $"+EnvStore+")")
}

// spec returns the driver and DSN the command works on: --driver and --dsn, or --store, or
// $DOCKYARD_STORE, in that order.
func (f *storeFlags) spec() (driver, dsn string, err error) {
	switch {
	case f.driver != "" && f.store != "":
		return "", "", usagef("give --store or --driver, not both")
	case f.driver != "" || f.dsn != "":
		return f.driver, f.dsn, nil
	case f.store != "":
		return splitDriverDSN("store", f.store)
	}
	if env := os.Getenv(EnvStore); env != "" {
		d, dsn, err := splitDriverDSN("store", env)
		if err != nil {
			return "", "", usagef("$%s: %w", EnvStore, err)
		}
		return d, dsn, nil
	}
	return "", "", nil // openStore says --driver is required
}

// reservedPrefix starts every namespace Dockyard itself keeps (migrations, the catalog).
const reservedPrefix = "\x00dockyard/"

// isReserved reports whether ns is a namespace Dockyard keeps for itself.
func isReserved(ns string) bool { return strings.HasPrefix(ns, reservedPrefix) }

// keyFlags are the flags of the commands that take namespaces and keys as arguments.
type keyFlags struct {
	hexKeys bool
	hexNS   bool
}

func (f *keyFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.hexKeys, "hex-keys", false, "key, prefix and --after arguments are hex-encoded (for binary keys)")
	cmd.Flags().BoolVar(&f.hexNS, "hex-ns", false, "the namespace argument is hex-encoded (for binary namespaces)")
}
