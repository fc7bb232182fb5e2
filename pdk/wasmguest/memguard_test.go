package wasmguest

import (
	"strings"
	"testing"
)

// fakeHeap is the collector's state as a memGuard reads it: live counts what a collection
// would find live.
type fakeHeap struct {
	live, lastLive int64
	cycles         uint64
	reads, gcs     int
}

func (h *fakeHeap) read() (int64, uint64) { h.reads++; return h.lastLive, h.cycles }
func (h *fakeHeap) collect()              { h.gcs++; h.cycles++; h.lastLive = h.live }

func TestMemGuard(t *testing.T) {
	const limit = 64 << 20
	h := &fakeHeap{}
	g := newMemGuard(limit, h.read, h.collect)
	bound := int64(limit / 8 * 5)
	// Writes that fit are admitted without a collection, and the metrics are read rarely.
	n := 0
	for ; int64(n+1)*(1<<20+writeOverhead) <= bound; n++ {
		if err := g.admit(1 << 20); err != nil {
			t.Fatalf("write %d: %v", n, err)
		}
		h.live += 1 << 20
	}
	if h.gcs != 0 || h.reads > n+1 {
		t.Errorf("%d writes: %d collections, %d reads", n, h.gcs, h.reads)
	}
	// The next does not fit: the guard collects, finds it still does not, and refuses.
	err := g.admit(1 << 20)
	if err == nil || !strings.Contains(err.Error(), "out of memory") || !strings.Contains(err.Error(), "67108864-byte memory limit") {
		t.Fatalf("the write past the bound: %v", err)
	}
	if h.gcs != 1 {
		t.Errorf("%d collections before refusing, want 1", h.gcs)
	}
	// Once data is freed, the collection the guard makes shows it and the write goes in.
	h.live /= 2
	if err := g.admit(1 << 20); err != nil {
		t.Fatalf("a write after freeing half: %v", err)
	}
	// No limit, no guard.
	if err := newMemGuard(0, h.read, h.collect).admit(1 << 40); err != nil {
		t.Fatal(err)
	}
}
