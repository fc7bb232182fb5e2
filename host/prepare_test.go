package host

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// TestPrepare opens several stores on one prepared manifest and one prepared bare artifact of
// each transport: each store is its own, and a checksum mismatch is refused up front.
func TestPrepare(t *testing.T) {
	ctx := context.Background()
	dir := driverDir(t, "kv")
	m, err := ReadManifest(filepath.Join(dir, "kv.json"))
	if err != nil {
		t.Fatal(err)
	}
	pm, err := m.Prepare(ctx, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer pm.Close()
	pw, err := PrepareArtifact(ctx, filepath.Join(dir, "inmem.wasm"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	pdir := t.TempDir()
	sqlitePlugin(t, pdir)
	pp, err := PrepareArtifact(ctx, filepath.Join(pdir, "sqlite-plugin"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer pp.Close()
	if pw.Manifest.Transport != TransportWasm || pp.Manifest.Transport != TransportPlugin {
		t.Fatalf("transports %q and %q", pw.Manifest.Transport, pp.Manifest.Transport)
	}
	for _, c := range []struct {
		name string
		p    *Prepared
		dsn  func() string
	}{
		{"manifest", pm, func() string { return "" }},
		{"wasm artifact", pw, func() string { return "" }},
		{"plugin artifact", pp, func() string { return filepath.Join(t.TempDir(), "db") }},
	} {
		var stores []store.Store
		for i := range 3 {
			s, err := c.p.Open(ctx, c.dsn())
			if err != nil {
				t.Fatalf("%s: store %d: %v", c.name, i, err)
			}
			stores = append(stores, s)
			if _, ok := pdk.InfoOf(s); !ok {
				t.Errorf("%s: pdk.InfoOf does not describe the store", c.name)
			}
		}
		if err := stores[0].Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v")) }); err != nil {
			t.Fatal(err)
		}
		err := stores[1].View(ctx, func(tx store.Tx) error { _, err := tx.Get("ns", "k"); return err })
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: a second store sees the first's data: %v", c.name, err)
		}
		for _, s := range stores {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}

	bad := *m
	bad.SHA256 = "00" + m.SHA256[2:]
	if _, err := bad.Prepare(ctx, quiet); !errors.Is(err, ErrChecksumMismatch) {
		t.Fatalf("Prepare with a wrong sha256: %v", err)
	}
}
