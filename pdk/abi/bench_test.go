package abi_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/store"
)

// BenchmarkViewGet measures a View with one Get through the ABI over the in-process loopback:
// the floor every transport adds its crossing cost to.
func BenchmarkViewGet(b *testing.B) {
	ctx := context.Background()
	c, _ := openClient(b, abi.InmemOpener)
	s := pdk.NewStore(c)
	defer s.Close()
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", make([]byte, 100)) }); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.View(ctx, func(tx store.Tx) error { _, err := tx.Get("ns", "k"); return err }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdate100Puts measures a write-only Update of 100 puts of 100 bytes: one crossing.
func BenchmarkUpdate100Puts(b *testing.B) {
	ctx := context.Background()
	c, _ := openClient(b, abi.InmemOpener)
	s := pdk.NewStore(c)
	defer s.Close()
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%03d", i)
	}
	value := make([]byte, 100)
	b.ReportAllocs()
	for b.Loop() {
		err := s.Update(ctx, func(tx store.Tx) error {
			for _, k := range keys {
				if err := tx.Put("ns", k, value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
