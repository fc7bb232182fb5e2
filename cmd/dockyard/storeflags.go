package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// storeFlags are the flags of every command that works on one store.
type storeFlags struct {
	driver string
	dsn    string
}

func (f *storeFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.driver, "driver", "", "the driver: a registered `NAME`, a manifest (.json) or an artifact (.wasm, plugin binary)")
	cmd.Flags().StringVar(&f.dsn, "dsn", "", "the store's data source name (sqlite: a file; buntdb: a directory; inmem: ignored)")
}

// reservedPrefix starts every namespace Dockyard itself keeps (migrations, the catalog).
const reservedPrefix = "\x00dockyard/"

// isReserved reports whether ns is a namespace Dockyard keeps for itself.
func isReserved(ns string) bool { return strings.HasPrefix(ns, reservedPrefix) }

// keyFlags are the flags of the commands that take namespaces and keys as arguments.
type keyFlags struct {
	hexKeys bool
}

func (f *keyFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.hexKeys, "hex-keys", false, "namespace, key and prefix arguments are hex-encoded (for binary keys)")
}
