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
	cmd.Flags().StringVar(&f.dsn, "dsn", "", "the store's data source name (sqlite: a file; buntdb: a directory; inmem: ignored; postgres, etcd: a URL; see dockyard drivers)")
	cmd.Flags().StringVar(&f.store, "store", "", "the store as one `DRIVER:DSN`, split at the first ':' (instead of --driver and --dsn; default $"+EnvStore+")")
}

// spec returns the driver and DSN the command works on: --driver and --dsn, or --store, or
// $DOCKYARD_STORE, in that order. --store and $DOCKYARD_STORE are parsed by store.SplitDSN,
// as an application's store.OpenDSN parses them.
func (f *storeFlags) spec() (driver, dsn string, err error) {
	switch {
	case f.store != "" && (f.driver != "" || f.dsn != ""):
		return "", "", usagef("give --store DRIVER:DSN, or --driver and --dsn, not both")
	case f.driver != "":
		return f.driver, f.dsn, nil
	case f.dsn != "":
		return "", "", usagef("--dsn needs --driver (or give the store as one --store DRIVER:DSN)")
	case f.store != "":
		return splitDriverDSN("--store", f.store)
	}
	if env := os.Getenv(EnvStore); env != "" {
		return splitDriverDSN("$"+EnvStore, env)
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
