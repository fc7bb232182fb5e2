package host

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/dockyard/dockyard/pdk/abi"
)

// TestHandshake reads the ABI handshake's answer of a wasm module and of a plugin binary: the
// version the guest speaks and what its driver declares.
func TestHandshake(t *testing.T) {
	ctx := context.Background()
	dir := driverDir(t)
	sqlitePlugin(t, dir)
	for _, c := range []struct {
		artifact, dsn, driver string
	}{
		{"inmem.wasm", "", "inmem"},
		{"sqlite-plugin", filepath.Join(t.TempDir(), "store.db"), "sqlite"},
	} {
		t.Run(c.artifact, func(t *testing.T) {
			p, err := PrepareArtifact(ctx, filepath.Join(dir, c.artifact), quiet)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			reply, err := p.Handshake(ctx, c.dsn)
			if err != nil {
				t.Fatalf("Handshake: %v", err)
			}
			if reply.Major != abi.Major || reply.Minor != abi.Minor || reply.Name != c.driver {
				t.Errorf("Handshake = %+v, want ABI %d.%d and driver %q", reply, abi.Major, abi.Minor, c.driver)
			}
		})
	}
}
