package ctest

import (
	"context"
	"testing"

	"github.com/dockyard/dockyard/host/wasmhost"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

// TestConformance runs the suite against plugins/cinmem, the C driver, compiled by clang and
// served through host/wasmhost like any other module: the proof that the ABI is language-neutral.
func TestConformance(t *testing.T) {
	for _, mode := range []struct {
		name string
		opts []wasmhost.Option
	}{{"deadline", nil}, {"trusted", []wasmhost.Option{wasmhost.WithTrusted()}}} {
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
