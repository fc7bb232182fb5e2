package store

import "fmt"

// NamespaceCatalog is the reserved namespace that lists every namespace a store has been
// written to: one key per namespace, with an empty value. The seam has no operation that
// lists namespaces, yet tools must find them all (to inspect a store, or copy it to another
// driver), so the write path records them: the pdk adapter, which every Dockyard driver runs
// behind, adds a namespace's key in the same transaction as its first Put there. A namespace
// stays listed after its last key is deleted. Applications must not write to it.
const NamespaceCatalog = "\x00dockyard/namespaces"

// Namespaces returns, in byte order, the namespaces recorded in the NamespaceCatalog of the
// store tx belongs to: every namespace written to, the reserved ones (MigrationNamespace)
// included, the catalog itself excluded.
func Namespaces(tx Tx) ([]string, error) {
	kvs, err := tx.Scan(NamespaceCatalog, "")
	if err != nil {
		return nil, fmt.Errorf("store: read the namespace catalog: %w", err)
	}
	names := make([]string, len(kvs))
	for i, kv := range kvs {
		names[i] = kv.Key
	}
	return names, nil
}
