package storetest

import (
	"bytes"
	"fmt"
	"math/rand/v2"

	"github.com/dockyard/dockyard/store"
)

var valueCases = []Case{
	{"ValueSizesRoundTrip", testValueSizes},
	{"ValueOverMaximumIsRejected", testValueTooLarge},
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func testValueSizes(t T, h Harness) {
	ctx, s := open(t, h)
	sizes := []int{0, 1, 255, 4096, 65536, 1 << 20, store.MaxValueSize - 1, store.MaxValueSize}
	for i, n := range sizes {
		v := randomBytes(uint64(i), n)
		key := fmt.Sprintf("size-%d", n)
		put(t, ctx, s, "ns", key, v)
		wantValue(t, ctx, s, "ns", key, v)
	}
	kvs := scan(t, ctx, s, "ns", "size-")
	if len(kvs) != len(sizes) {
		t.Fatalf("Scan returned %d values, want %d", len(kvs), len(sizes))
	}
	for _, kv := range kvs {
		var n int
		fmt.Sscanf(kv.Key, "size-%d", &n)
		if len(kv.Value) != n {
			t.Fatalf("Scan value of %q has %d bytes, want %d", kv.Key, len(kv.Value), n)
		}
	}
}

func testValueTooLarge(t T, h Harness) {
	ctx, s := open(t, h)
	old := []byte("old value")
	put(t, ctx, s, "ns", "k", old)
	over := bytes.Repeat([]byte{'x'}, store.MaxValueSize+1)
	err := s.Update(ctx, func(tx store.Tx) error {
		wantErr(t, "Put of MaxValueSize+1 bytes over an existing key", tx.Put("ns", "k", over), store.ErrTooLarge)
		wantErr(t, "Put of MaxValueSize+1 bytes under a new key", tx.Put("ns", "new", over), store.ErrTooLarge)
		v, err := tx.Get("ns", "k")
		if err != nil || !bytes.Equal(v, old) {
			t.Errorf("inside Update after a rejected Put: Get = %s, %v; want the old value", short(v), err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	wantValue(t, ctx, s, "ns", "k", old)
	wantAbsent(t, ctx, s, "ns", "new")
}
