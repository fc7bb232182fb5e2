package pdk_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

type unknownCommit struct{ pdk.Driver }
type unknownCommitTxn struct{ pdk.Txn }

func (d unknownCommit) Begin(ctx context.Context, writable bool) (pdk.Txn, error) {
	tx, err := d.Driver.Begin(ctx, writable)
	return unknownCommitTxn{tx}, err
}

func (t unknownCommitTxn) Commit(context.Context) error {
	return fmt.Errorf("the connection failed during COMMIT: %w", store.ErrCommitUnknown)
}

// TestCommitUnknownInProcess: an in-process driver's store.ErrCommitUnknown reaches the
// application through the adapter, wrapped, so errors.Is finds it (the ABI transports carry it
// as COMMIT_UNKNOWN: pdk/abi, host/wasmhost and host/pluginhost test those).
func TestCommitUnknownInProcess(t *testing.T) {
	s := pdk.NewStore(unknownCommit{inmem.NewDriver()})
	defer s.Close()
	err := s.Update(context.Background(), func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v")) })
	if !errors.Is(err, store.ErrCommitUnknown) {
		t.Fatalf("Update = %v; want store.ErrCommitUnknown", err)
	}
}
