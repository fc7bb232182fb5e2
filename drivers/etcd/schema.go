package etcd

import (
	"context"
	"fmt"
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/dockyard/dockyard/store"
)

// SchemaVersion is the version of the key layout this driver writes and understands, recorded
// at P/meta/schema. A store with a larger version is refused.
const SchemaVersion = 1

// schemaSteps are the forward-only steps that bring a store's keys from version i to i+1 (step
// i, 0-based): the operations of one transaction, which also records version i+1, applied only
// if the recorded version is still i. A released step is never edited; a change is a new step.
// Version 1 is the layout of keys.go: it needs no keys of its own but the commit fence.
var schemaSteps = []func(l layout) []clientv3.Op{
	func(l layout) []clientv3.Op { return []clientv3.Op{clientv3.OpPut(l.commit, "")} },
}

// ensureSchema brings the store to SchemaVersion, or refuses it. Each step is one transaction
// that compares the recorded version (absent for a new store) with the step's, so processes
// opening a store at the same moment apply each step once: the losers of a race read the new
// version and go on. A prefix that holds keys but no schema is not a Dockyard store (or is
// another store's, nested: prefixes must not nest) and is refused.
func (d *driver) ensureSchema(ctx context.Context) error {
	for {
		v, rev, err := d.schemaVersion(ctx)
		if err != nil || v == SchemaVersion {
			return err
		}
		if d.opts.ReadOnly && v == 0 {
			return fmt.Errorf("etcd: open prefix %q read-only: %w: no schema at %q (a read-only open creates nothing)", d.prefix, store.ErrNoStore, d.l.schema)
		}
		if d.opts.ReadOnly {
			return fmt.Errorf("etcd: open prefix %q read-only: it has schema version %d, older than this driver's %d, and a read-only open does not upgrade it: open it once read-write", d.prefix, v, SchemaVersion)
		}
		cmp := clientv3.Compare(clientv3.ModRevision(d.l.schema), "=", rev)
		ops := append(schemaSteps[v](d.l), clientv3.OpPut(d.l.schema, strconv.Itoa(v+1)))
		if _, err := d.cli.Txn(leader(ctx)).If(cmp).Then(ops...).Commit(); err != nil {
			return d.errorf(fmt.Sprintf("schema step %d", v+1), err)
		}
		// Whether this process's step won or another's did, read again.
	}
}

// schemaVersion reads the store's schema version (0 when none is recorded) and the revision
// of the key recording it (0 when absent), refusing a version newer than the driver's, and a
// prefix that holds keys but no version. The two reads are one transaction: one snapshot, so
// that another process's first step, which writes the version and the fence at once, is seen
// whole or not at all.
func (d *driver) schemaVersion(ctx context.Context) (v int, modRev int64, err error) {
	r, err := d.cli.Txn(leader(ctx)).Then(
		clientv3.OpGet(d.l.schema),
		clientv3.OpGet(d.l.root, clientv3.WithPrefix(), clientv3.WithLimit(1), clientv3.WithKeysOnly()),
	).Commit()
	if err != nil {
		return 0, 0, d.errorf("read the schema version", err)
	}
	if kvs := r.Responses[0].GetResponseRange().Kvs; len(kvs) == 0 {
		if keys := r.Responses[1].GetResponseRange().Kvs; len(keys) > 0 {
			return 0, 0, fmt.Errorf("etcd: prefix %q holds keys (%q) but no schema version at %q: not a Dockyard store, or another store's (prefixes must not nest); refusing to use it", d.prefix, keys[0].Key, d.l.schema)
		}
		return 0, 0, nil
	}
	kv := r.Responses[0].GetResponseRange().Kvs[0]
	v, err = strconv.Atoi(string(kv.Value))
	switch {
	case err != nil || v < 1:
		return 0, 0, fmt.Errorf("etcd: %q holds %q, not a schema version: not a Dockyard store", d.l.schema, kv.Value)
	case v > SchemaVersion:
		return 0, 0, fmt.Errorf("etcd: the store at prefix %q has schema version %d, newer than this driver's %d; use a newer Dockyard", d.prefix, v, SchemaVersion)
	}
	return v, kv.ModRevision, nil
}
