package ctest

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
)

// gen generates random batches within what the host's adapter guarantees a guest (one writable
// transaction, id 1; readers 2..4; non-empty keys within the limits), plus operations naming
// transactions that are not open and, now and then, a malformed frame.
type gen struct {
	rng     *rand.Rand
	session bool            // as the C guest's answers say
	open    map[uint32]bool // the same
	plan    map[uint32]bool // open as the batch being generated leaves them, if all goes well
	sent    []genOp         // the operations of the last batch
}

type genOp struct {
	op abi.Op
	tx uint32
}

var (
	genNS       = []string{"a", "b"}
	genKeys     = []string{"k", "k0", "k1", "k1x", "k2", "k5", "k9", "\x00", "\xff", "\xff\x00", "z"}
	genPrefixes = []string{"", "", "k", "k1", "\xff", "q"}
	genAfters   = []string{"", "", "k", "k1", "k2", "\x00", "\xff\x00"}
)

func (g *gen) pick(s []string) string { return s[g.rng.IntN(len(s))] }

// tx picks a transaction for an operation: mostly one the batch so far leaves open, the
// writable one (1) for writes and commits, now and then one that is not open.
func (g *gen) tx(writable bool) uint32 {
	if g.rng.IntN(12) == 0 {
		return 9 // never opened
	}
	if writable {
		return 1
	}
	var open []uint32
	for tx := uint32(1); tx <= 4; tx++ {
		if g.plan[tx] {
			open = append(open, tx)
		}
	}
	if len(open) == 0 || g.rng.IntN(8) == 0 {
		return uint32(1 + g.rng.IntN(4))
	}
	return open[g.rng.IntN(len(open))]
}

// saw updates the model from the guest's results for the last batch.
func (g *gen) saw(rs []result) {
	for i, r := range rs {
		if i >= len(g.sent) {
			return
		}
		s := g.sent[i]
		switch {
		case s.op == abi.OpHello && r.Status == abi.OK:
			g.session, g.open = true, map[uint32]bool{}
		case s.op == abi.OpClose && r.Status != abi.NotOpen:
			g.session, g.open = false, map[uint32]bool{}
		case s.op == abi.OpBegin && r.Status == abi.OK:
			g.open[s.tx] = true
		case (s.op == abi.OpCommit || s.op == abi.OpRollback) && r.Status != abi.UnknownTx && r.Status != abi.NotOpen:
			delete(g.open, s.tx)
		}
	}
}

func (g *gen) batch() []byte {
	e := abi.NewEncoder(nil)
	n := 1 + g.rng.IntN(6)
	e.AppendHeader(abi.RequestMagic, abi.Major, abi.Minor, uint32(n))
	g.sent = g.sent[:0]
	g.plan = maps.Clone(g.open)
	for i := range n {
		var s genOp
		r := g.rng.IntN(100)
		if r >= 40 && r < 90 && !g.plan[1] && g.rng.IntN(4) != 0 {
			r = 5 // a write or commit wants the writer open: begin it first
		}
		switch {
		case r < 1 || (i == 0 && !g.session && r < 90):
			s.op = abi.OpHello
			e.AppendHello(abi.Hello{Major: abi.Major, Minor: abi.Minor})
			g.plan = map[uint32]bool{}
		case r < 3:
			s.op = abi.OpClose
			e.AppendClose()
			g.plan = map[uint32]bool{}
		case r < 5:
			s.op = abi.OpPing
			e.AppendPing()
		case r < 20:
			s.op, s.tx = abi.OpBegin, uint32(1+g.rng.IntN(4))
			if r == 5 {
				s.tx = 1
			}
			e.AppendBegin(s.tx, s.tx == 1)
			g.plan[s.tx] = true
		case r < 40:
			s.op, s.tx = abi.OpGet, g.tx(false)
			e.AppendGet(s.tx, g.pick(genNS), g.pick(genKeys))
		case r < 60:
			v := make([]byte, g.rng.IntN(8))
			for i := range v {
				v[i] = byte(g.rng.Uint32())
			}
			s.op, s.tx = abi.OpPut, g.tx(true)
			e.AppendPut(s.tx, g.pick(genNS), g.pick(genKeys), v)
		case r < 68:
			s.op, s.tx = abi.OpDelete, g.tx(true)
			e.AppendDelete(s.tx, g.pick(genNS), g.pick(genKeys))
		case r < 82:
			s.op, s.tx = abi.OpScan, g.tx(false)
			e.AppendScan(s.tx, g.pick(genNS), g.pick(genPrefixes), g.pick(genAfters), uint32(1+g.rng.IntN(5)))
		case r < 90:
			s.op, s.tx = abi.OpCommit, g.tx(true)
			e.AppendCommit(s.tx)
			delete(g.plan, s.tx)
		default:
			s.op, s.tx = abi.OpRollback, g.tx(false)
			e.AppendRollback(s.tx)
			delete(g.plan, s.tx)
		}
		g.sent = append(g.sent, s)
	}
	return bytes.Clone(e.Bytes())
}

// mutate breaks a frame: a byte changed, the frame cut, or bytes added.
func (g *gen) mutate(req []byte) []byte {
	req = bytes.Clone(req)
	switch g.rng.IntN(3) {
	case 0:
		req[g.rng.IntN(len(req))] = byte(g.rng.Uint32())
	case 1:
		req = req[:g.rng.IntN(len(req))]
	default:
		req = append(req, byte(g.rng.Uint32()))
	}
	return req
}

// TestDifferential sends the same random batches to the C module and to the Go dispatcher
// (pdk/abi) serving drivers/inmem: two guests written from one document, by different hands in
// different languages, over two different stores. Their answers must agree result for result:
// the same statuses, the same GET values and SCAN pages, the same Info but for the driver's
// name and version and the ABI minor. Failure messages are free text and are not compared.
func TestDifferential(t *testing.T) {
	wasm := cinmemC.bytes(t)
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			c := newRawGuest(t, wasm)
			disp := abi.NewDispatcher(func(context.Context, abi.Hello) (pdk.Driver, error) { return inmem.NewDriver(), nil })
			g := &gen{rng: rand.New(rand.NewPCG(seed, 7)), open: map[uint32]bool{}}
			reset := request(hello)
			exchange := func(req []byte) (ops []abi.Op, cr, gr []result) {
				t.Helper()
				ops, ok := requestOps(req)
				if !ok {
					ops = nil
				}
				var err error
				cResp := c.roundTrip(req)
				if cr, err = parseResponse(cResp, ops); err != nil {
					t.Fatalf("C guest: request %x: response %x: %v", req, cResp, err)
				}
				if ops != nil {
					g.saw(cr)
				}
				gResp := disp.Handle(context.Background(), req, nil)
				if gr, err = parseResponseOf(gResp, ops, abi.Minor); err != nil {
					t.Fatalf("Go guest: request %x: response %x: %v", req, gResp, err)
				}
				return ops, cr, gr
			}
			g.sent = []genOp{{op: abi.OpHello}}
			exchange(reset)
			for i := range 3000 {
				req := g.batch()
				mutated := g.rng.IntN(8) == 0
				if mutated {
					req = g.mutate(req)
				}
				ops, cr, gr := exchange(req)
				if mutated && ops != nil {
					// Still well-formed but perhaps outside what a host may send: resynchronise.
					g.sent = []genOp{{op: abi.OpHello}}
					exchange(reset)
					continue
				}
				if err := agree(ops, cr, gr); err != nil {
					t.Fatalf("batch %d, request %x:\n%v\n C: %v\nGo: %v", i, req, err, cr, gr)
				}
			}
		})
	}
}

// agree reports how the two guests' results differ, if they do.
func agree(ops []abi.Op, c, g []result) error {
	if len(c) != len(g) {
		return fmt.Errorf("%d results from C, %d from Go", len(c), len(g))
	}
	for i := range c {
		if c[i].Status != g[i].Status {
			return fmt.Errorf("result %d: status %v from C, %v from Go", i, c[i].Status, g[i].Status)
		}
		if c[i].Status != abi.OK {
			continue
		}
		if ops[i] == abi.OpHello {
			ci, gi := c[i].Info, g[i].Info
			ci.Name, ci.Version, gi.Name, gi.Version = "", "", "", ""
			ci.Minor, gi.Minor = 0, 0 // the C kit speaks 1.1, the Go one 1.2 (cMinor)
			if ci != gi {
				return fmt.Errorf("result %d: Info %+v from C, %+v from Go", i, c[i].Info, g[i].Info)
			}
			continue
		}
		if !bytes.Equal(c[i].Payload, g[i].Payload) {
			return fmt.Errorf("result %d (%v): payload %q from C, %q from Go", i, ops[i], c[i].Payload, g[i].Payload)
		}
	}
	return nil
}
