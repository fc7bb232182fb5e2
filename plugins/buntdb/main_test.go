package main

import (
	"context"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/pdk/abi"
)

func TestOpen(t *testing.T) {
	ctx := context.Background()
	if _, err := open(ctx, abi.Hello{}); err == nil || !strings.Contains(err.Error(), "data directory") {
		t.Fatalf("empty DSN: %v", err)
	}
	if _, err := open(ctx, abi.Hello{DSN: t.TempDir(), Options: []byte(`{"bogus": 1}`)}); err == nil {
		t.Fatal("unknown option accepted")
	}
	for _, o := range []string{"", " ", `{}`, `{"compact_min_size": -1}`} {
		d, err := open(ctx, abi.Hello{DSN: t.TempDir(), Options: []byte(o)})
		if err != nil {
			t.Fatalf("options %q: %v", o, err)
		}
		if info := d.Info(); info.Name != "buntdb" || !info.Caps.Durable || info.Caps.ConcurrentReaders {
			t.Fatalf("Info: %+v", info)
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
