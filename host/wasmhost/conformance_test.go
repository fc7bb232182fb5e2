package wasmhost

import (
	"context"
	"testing"

	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

// TestConformance runs the suite against drivers/inmem compiled to wasm (plugins/inmem) and
// served through this package: the same driver code as in-process, behind the ABI, the guest
// exports and the wazero transport.
func TestConformance(t *testing.T) {
	inmem, _ := sharedModules(t)
	storetest.Run(t, storetest.Harness{
		Open: func(ctx context.Context, t storetest.T) (store.Store, error) {
			return inmem.Open(ctx, "")
		},
		Caps: storetest.Capabilities{ConcurrentReaders: true},
	})
}
