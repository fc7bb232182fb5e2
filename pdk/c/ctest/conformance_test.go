package ctest

import (
	"context"
	"testing"

	hostwasm "github.com/dockyard/dockyard/host/wasm"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

// TestConformance runs the suite against plugins/cinmem, the C driver, compiled by clang and
// served through host/wasm like any other module: the proof that the ABI is language-neutral.
func TestConformance(t *testing.T) {
	for _, mode := range []struct {
		name string
		opts []hostwasm.Option
	}{{"deadline", nil}, {"trusted", []hostwasm.Option{hostwasm.WithTrusted()}}} {
		t.Run(mode.name, func(t *testing.T) {
			m := cinmemC.compile(t, "cinmem", mode.opts...)
			storetest.Run(t, storetest.Harness{
				Open: func(ctx context.Context, t storetest.T) (store.Store, error) {
					return m.Open(ctx, "")
				},
				Caps: storetest.Capabilities{ConcurrentReaders: true},
			})
		})
	}
}
