// Command commitunknown is a test fixture of host/wasmhost and host/pluginhost: drivers/inmem served as
// a WebAssembly module (pdk/wasmguest) or as a plugin binary (pdk/pluginguest), except that the Commit of
// a transaction that wrote to the namespace "unknown" commits and then reports that whether it
// committed is unknown (store.ErrCommitUnknown), as drivers/postgres does when the server goes
// away during COMMIT. The tests check the application sees errors.Is(err,
// store.ErrCommitUnknown) through each transport.
package main

import (
	"context"
	"fmt"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/store"
)

// Message is the driver's message for an unknown commit.
const Message = "commitunknown: the backend went away during COMMIT, whether it committed is unknown"

func open(context.Context, abi.Hello) (pdk.Driver, error) { return driver{inmem.NewDriver()}, nil }

type driver struct{ pdk.Driver }

func (d driver) Begin(ctx context.Context, writable bool) (pdk.Txn, error) {
	tx, err := d.Driver.Begin(ctx, writable)
	if err != nil {
		return nil, err
	}
	return &txn{Txn: tx}, nil
}

type txn struct {
	pdk.Txn
	unknown bool
}

func (t *txn) Put(ctx context.Context, ns, key string, value []byte) error {
	if ns == "unknown" {
		t.unknown = true
	}
	return t.Txn.Put(ctx, ns, key, value)
}

func (t *txn) Commit(ctx context.Context) error {
	if err := t.Txn.Commit(ctx); err != nil || !t.unknown {
		return err
	}
	return fmt.Errorf("%s: %w", Message, store.ErrCommitUnknown)
}
