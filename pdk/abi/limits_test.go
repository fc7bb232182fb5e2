package abi

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/store"
)

// TestAnswersPastTheLimits: a response carrying more than the request may get back (a value
// past the value limit, a key past the key limit, a message past MaxMessage, a scan page past
// its limit or its byte budget) is a protocol violation, refused before it is kept.
func TestAnswersPastTheLimits(t *testing.T) {
	entry := func(k string, v int) func(*Encoder) {
		return func(e *Encoder) { e.AppendString(k); e.AppendBytes(make([]byte, v)) }
	}
	page := func(n uint32, entries ...func(*Encoder)) func(*Encoder) {
		return func(e *Encoder) {
			e.AppendU8(uint8(OK))
			e.AppendU32(n)
			for _, en := range entries {
				en(e)
			}
			e.AppendU8(0)
		}
	}
	small := answerLimits{maxKey: 8, maxValue: 16, scanLimit: 2}
	for _, c := range []struct {
		name  string
		ops   []Op
		frame []byte
		lim   answerLimits
		want  string
	}{
		{"GET value past the store's limit", []Op{OpGet},
			resp(1, func(e *Encoder) { e.AppendU8(uint8(OK)); e.AppendBytes(make([]byte, store.MaxValueSize+1)) }),
			defaultLimits, "GET value of 4194305 bytes exceeds the 4194304-byte value limit"},
		{"GET value past the guest's declared limit", []Op{OpGet},
			resp(1, func(e *Encoder) { e.AppendU8(uint8(OK)); e.AppendBytes(make([]byte, 17)) }),
			small, "GET value of 17 bytes exceeds the 16-byte value limit"},
		{"scan key past the key limit", []Op{OpScan},
			resp(1, page(1, entry(strings.Repeat("k", store.MaxKeySize+1), 0))),
			defaultLimits, "scan entry 0: key of 1025 bytes exceeds the 1024-byte key limit"},
		{"scan value past the value limit", []Op{OpScan},
			resp(1, page(2, entry("a", 1), entry("b", 17))),
			small, "scan entry 1: value of 17 bytes exceeds the 16-byte value limit"},
		{"scan page past the SCAN's limit", []Op{OpScan},
			resp(1, page(3, entry("a", 0), entry("b", 0), entry("c", 0))),
			small, "scan page of 3 entries exceeds the SCAN's limit of 2"},
		{"scan page past the byte budget", []Op{OpScan},
			resp(1, page(2, entry("a", ScanPageBudget/2), entry("b", ScanPageBudget/2))),
			defaultLimits, "scan page of 2 entries and 1048599 bytes exceeds the 1048576-byte page budget"},
		{"message past MaxMessage", []Op{OpCommit},
			resp(1, func(e *Encoder) { e.AppendU8(uint8(Failed)); e.AppendString(strings.Repeat("m", MaxMessage+1)) }),
			defaultLimits, "FAILED message of 65537 bytes exceeds the 65536-byte limit"},
		{"driver name past MaxInfoString", []Op{OpHello},
			resp(1, helloOK(HelloReply{Major: Major, Minor: Minor, Name: strings.Repeat("n", MaxInfoString+1)})),
			defaultLimits, "driver name of 1025 bytes exceeds the 1024-byte limit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeResponse(c.frame, c.ops, c.lim)
			if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("decodeResponse: %v; want ErrProtocol saying %q", err, c.want)
			}
		})
	}
	// Within the limits, the same shapes decode: a single entry may exceed the budget.
	ok1 := resp(1, page(1, entry(strings.Repeat("k", store.MaxKeySize), store.MaxValueSize)))
	if r, err := decodeResponse(ok1, []Op{OpScan}, defaultLimits); err != nil || len(r.page) != 1 {
		t.Fatalf("a page of one maximal entry: %v", err)
	}
}

// TestClientRefusesOversizeValue: through a live client, a GET answered with a value larger
// than the guest declared it accepts is refused with the limit named, and the guest's
// session is abandoned (its answers cannot be trusted).
func TestClientRefusesOversizeValue(t *testing.T) {
	ctx := context.Background()
	info := guestInfo
	info.MaxValueSize = 100
	c := newClient(t, rtFunc(func(ctx context.Context, req []byte) ([]byte, error) {
		ops := opsOf(req)
		switch ops[len(ops)-1] {
		case OpHello:
			return resp(1, helloOK(info)), nil
		case OpGet:
			return resp(uint32(len(ops)), ok, func(e *Encoder) { e.AppendU8(uint8(OK)); e.AppendBytes(make([]byte, 101)) }), nil
		}
		return nil, errors.New("unexpected request")
	}), WithAcceptLoss())
	r, _ := c.Begin(ctx, false)
	_, err := r.Get(ctx, "ns", "k")
	if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "GET value of 101 bytes exceeds the 100-byte value limit") {
		t.Fatalf("Get: %v", err)
	}
}
