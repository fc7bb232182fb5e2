package history

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/dockyard/dockyard/store"
)

// registerKeys is the number of keys of the Registers workload: few enough that transactions
// collide all the time, and a state small enough to compare as one array.
const registerKeys = 4

// registers is the model's state: the value of each key, 0 for absent.
type registers [registerKeys]int64

// access is one step of a transaction: read a key, write one (0 deletes it), or scan them all.
type access struct {
	kind  byte // 'r', 'w' or 's'
	key   int
	value int64
}

type txInput struct {
	update bool
	steps  []access
}

type txOutput struct {
	reads   []int64 // one per 'r', registerKeys per 's', in order
	unknown bool    // an Update whose commit is unknown: reads are not known either
	applied bool    // an unknown Update that a read shows took effect
}

// registerModel is a transaction as one atomic step. An unknown Update may have happened or
// not, so it leads to both states.
var registerModel = porcupine.NondeterministicModel{
	Init: func() []any { return []any{registers{}} },
	Step: func(state, input, output any) []any {
		s, in, out := state.(registers), input.(txInput), output.(txOutput)
		after := s
		if out.unknown {
			for _, a := range in.steps {
				if a.kind == 'w' {
					after[a.key] = a.value
				}
			}
			if out.applied {
				return []any{after}
			}
			return []any{s, after}
		}
		reads := out.reads
		for _, a := range in.steps {
			switch a.kind {
			case 'w':
				after[a.key] = a.value
			case 'r':
				if reads[0] != after[a.key] {
					return nil
				}
				reads = reads[1:]
			case 's':
				for k := range after {
					if reads[k] != after[k] {
						return nil
					}
				}
				reads = reads[registerKeys:]
			}
		}
		if !in.update {
			return []any{s}
		}
		return []any{after}
	},
	DescribeOperation: func(input, output any) string { return describeTx(input.(txInput), output.(txOutput)) },
	DescribeState:     func(state any) string { return fmt.Sprint(state.(registers)) },
	Hash: func(state any) uint64 {
		h := uint64(14695981039346656037)
		for _, v := range state.(registers) {
			h = (h ^ uint64(v)) * 1099511628211
		}
		return h
	},
}

func describeTx(in txInput, out txOutput) string {
	var b strings.Builder
	if in.update {
		b.WriteString("Update[")
	} else {
		b.WriteString("View[")
	}
	reads := out.reads
	for i, a := range in.steps {
		if i > 0 {
			b.WriteString(" ")
		}
		switch {
		case a.kind == 'w':
			fmt.Fprintf(&b, "w k%d=%d", a.key, a.value)
		case out.unknown:
			fmt.Fprintf(&b, "%c k%d=?", a.kind, a.key)
		case a.kind == 'r':
			fmt.Fprintf(&b, "r k%d=%d", a.key, reads[0])
			reads = reads[1:]
		default:
			fmt.Fprintf(&b, "scan=%v", reads[:registerKeys])
			reads = reads[registerKeys:]
		}
	}
	if out.applied {
		b.WriteString("] (commit unknown, took effect)")
	} else if out.unknown {
		b.WriteString("] (commit unknown)")
	} else {
		b.WriteString("]")
	}
	return b.String()
}

func registerKey(k int) string { return "k" + strconv.Itoa(k) }

// randomTx picks a transaction: for a reader a View of one to three keys or of all of them,
// for a writer an Update that reads up to two keys and writes one or two. Every write's value is unique to
// it (the client in the high bits, a sequence number in the low ones); one in eight is a delete.
func randomTx(r *rand.Rand, client int, reader bool, seq *int64) txInput {
	var in txInput
	if reader {
		if r.IntN(3) == 0 {
			in.steps = append(in.steps, access{kind: 's'})
		} else {
			for n := 1 + r.IntN(3); n > 0; n-- {
				in.steps = append(in.steps, access{kind: 'r', key: r.IntN(registerKeys)})
			}
		}
		return in
	}
	in.update = true
	for n := r.IntN(3); n > 0; n-- {
		in.steps = append(in.steps, access{kind: 'r', key: r.IntN(registerKeys)})
	}
	for n := 1 + r.IntN(2); n > 0; n-- {
		*seq++
		v := int64(client+1)<<32 | *seq
		if r.IntN(8) == 0 {
			v = 0
		}
		in.steps = append(in.steps, access{kind: 'w', key: r.IntN(registerKeys), value: v})
	}
	r.Shuffle(len(in.steps), func(i, j int) { in.steps[i], in.steps[j] = in.steps[j], in.steps[i] })
	return in
}

func readRegister(tx store.Tx, ns string, k int) (int64, error) {
	v, err := tx.Get(ns, registerKey(k))
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return parseRegister(registerKey(k), v)
}

func parseRegister(key string, v []byte) (int64, error) {
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil || n <= 0 {
		return 0, breach("key %s holds %q, which no transaction wrote", key, v)
	}
	return n, nil
}

// runTx runs in on s and returns what it read.
func runTx(ctx context.Context, s store.Store, ns string, in txInput) ([]int64, error) {
	var reads []int64
	fn := func(tx store.Tx) error {
		reads = reads[:0] // a retried fn starts over
		for _, a := range in.steps {
			switch a.kind {
			case 'w':
				var err error
				if a.value == 0 {
					err = tx.Delete(ns, registerKey(a.key))
				} else {
					err = tx.Put(ns, registerKey(a.key), []byte(strconv.FormatInt(a.value, 10)))
				}
				if err != nil {
					return err
				}
			case 'r':
				v, err := readRegister(tx, ns, a.key)
				if err != nil {
					return err
				}
				reads = append(reads, v)
			case 's':
				var all registers
				if err := scanSlots(tx, ns, "k", all[:], parseRegister); err != nil {
					return err
				}
				reads = append(reads, all[:]...)
			}
		}
		return nil
	}
	var err error
	if in.update {
		err = s.Update(ctx, fn)
	} else {
		err = s.View(ctx, fn)
	}
	return reads, err
}

// Registers runs the Registers workload on target and checks its history for strict
// serializability.
func Registers(ctx context.Context, target Target, o Options) (Report, error) {
	o = o.withDefaults()
	var (
		rep Report
		mu  sync.Mutex
		ops []porcupine.Operation
		clk = clock{time.Now()}
	)
	record := func(op porcupine.Operation, res outcome) {
		mu.Lock()
		defer mu.Unlock()
		rep.count(res)
		if res != failed { // a failed one had no effect: nothing to place in the history
			ops = append(ops, op)
		}
	}
	seqs := make([]int64, o.Clients)
	err := drive(ctx, o, &rep, func(ctx context.Context, client int, reader bool, r *rand.Rand) error {
		in := randomTx(r, client, reader, &seqs[client])
		call := clk.now()
		reads, err := runTx(ctx, target(), o.Namespace, in)
		if errors.Is(err, errBreach) {
			return err
		}
		op := porcupine.Operation{ClientId: client, Input: in, Call: call, Return: clk.now(),
			Output: txOutput{reads: reads}}
		res := classify(err)
		if res == unknown {
			if !in.update {
				res = failed // a View has no commit; an error from it says nothing about the state
			} else {
				op.Output, op.Return = txOutput{unknown: true}, 1<<62 // it may take effect any time later
			}
		}
		record(op, res)
		return err
	})
	if err != nil {
		return rep, err
	}
	final := txInput{steps: []access{{kind: 's'}}}
	err = finally(ctx, o, func() error {
		call := clk.now()
		reads, err := runTx(ctx, target(), o.Namespace, final)
		if err == nil {
			record(porcupine.Operation{ClientId: o.Clients, Input: final, Call: call, Return: clk.now(),
				Output: txOutput{reads: reads}}, succeeded)
		}
		return err
	})
	if err != nil {
		return rep, fmt.Errorf("final Scan: %w", err)
	}
	began := time.Now()
	err = checkLinearizable(prune(ops), rep)
	rep.Check = time.Since(began)
	return rep, err
}

// prune settles what the reads tell about unknown Updates. One that no read observed and that
// deletes nothing is dropped: had it taken effect, it would only have written values nobody saw,
// so the history holds with it if and only if it holds without it. One whose value a read saw
// took effect (every value is unique to its write), so it is marked applied. Each unknown Update
// left open doubles the states the checker carries, so this is what keeps a fault run's
// history checkable in seconds.
func prune(ops []porcupine.Operation) []porcupine.Operation {
	seen := map[int64]bool{}
	for _, op := range ops {
		for _, v := range op.Output.(txOutput).reads {
			seen[v] = true
		}
	}
	kept := ops[:0:0]
	for _, op := range ops {
		if op.Output.(txOutput).unknown {
			deletes, observed := false, false
			for _, a := range op.Input.(txInput).steps {
				deletes = deletes || a.kind == 'w' && a.value == 0
				observed = observed || a.kind == 'w' && a.value != 0 && seen[a.value]
			}
			switch {
			case observed:
				op.Output = txOutput{unknown: true, applied: true}
			case !deletes:
				continue // could only have written values nobody read
			}
		}
		kept = append(kept, op)
	}
	return kept
}

// checkTimeout bounds porcupine. The histories are small enough to check in milliseconds; a
// check that has not finished in this long is reported, not waited for.
const checkTimeout = time.Minute

func checkLinearizable(ops []porcupine.Operation, rep Report) error {
	model := registerModel.ToModel()
	res, info := porcupine.CheckOperationsVerbose(model, ops, checkTimeout)
	switch res {
	case porcupine.Ok:
		return nil
	case porcupine.Unknown:
		return fmt.Errorf("history: checking %d transactions (%s) did not finish within %v", len(ops), rep, checkTimeout)
	}
	return fmt.Errorf("history: the %d transactions (%s) are not strictly serializable: no order of them, "+
		"each at an instant between its call and its return, explains what they read; %s",
		len(ops), rep, stuck(model, ops, info))
}

// stuck describes where the longest order the checker found ends: the last transaction it
// placed and the earliest ones it could not place after it.
func stuck(model porcupine.Model, ops []porcupine.Operation, info porcupine.LinearizationInfo) string {
	var longest []int
	for _, partition := range info.PartialLinearizations() {
		for _, lin := range partition {
			if len(lin) > len(longest) {
				longest = lin
			}
		}
	}
	placed := make(map[int]bool, len(longest))
	for _, i := range longest {
		placed[i] = true
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the longest order found places %d", len(longest))
	if len(longest) > 0 {
		last := ops[longest[len(longest)-1]]
		fmt.Fprintf(&b, ", the last %s", model.DescribeOperation(last.Input, last.Output))
	}
	var rest []int
	for i := range ops {
		if !placed[i] {
			rest = append(rest, i)
		}
	}
	slices.SortFunc(rest, func(a, b int) int { return cmp.Compare(ops[a].Call, ops[b].Call) })
	b.WriteString("; none of the earliest others fits after it:")
	for n, i := range rest {
		if n == 4 {
			b.WriteString(" …")
			break
		}
		fmt.Fprintf(&b, " %s;", model.DescribeOperation(ops[i].Input, ops[i].Output))
	}
	return b.String()
}
