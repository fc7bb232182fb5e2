package history

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dockyard/dockyard/store"
)

// appendLists is the number of lists of the ListAppend workload.
const appendLists = 3

func listKey(l int) string { return "list" + strconv.Itoa(l) }

type appendRec struct {
	list       int
	call, back int64
	res        outcome
}

type readRec struct {
	call, back int64
	lists      [appendLists][]int64
}

func parseList(key string, v []byte) ([]int64, error) {
	if len(v) == 0 {
		return nil, nil
	}
	var out []int64
	for _, f := range strings.Split(string(v), ",") {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n <= 0 {
			return nil, breach("list %s holds %q, which no transaction wrote", key, v)
		}
		out = append(out, n)
	}
	return out, nil
}

func readLists(ctx context.Context, s store.Store, ns string) (all [appendLists][]int64, err error) {
	err = s.View(ctx, func(tx store.Tx) error {
		all = [appendLists][]int64{}
		return scanSlots(tx, ns, "list", all[:], parseList)
	})
	return all, err
}

func appendTo(ctx context.Context, s store.Store, ns string, l int, id int64) error {
	return s.Update(ctx, func(tx store.Tx) error {
		v, err := tx.Get(ns, listKey(l))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if _, err := parseList(listKey(l), v); err != nil {
			return err
		}
		if len(v) > 0 {
			v = append(slices.Clip(v), ',')
		}
		return tx.Put(ns, listKey(l), strconv.AppendInt(v, id, 10))
	})
}

// ListAppend runs the ListAppend workload on target and checks what its Views read: every read
// of a list is a prefix of every longer one, holds only elements whose append did not fail, none
// before its append began, and every append acknowledged before the read began.
func ListAppend(ctx context.Context, target Target, o Options) (Report, error) {
	o = o.withDefaults()
	var (
		rep     Report
		mu      sync.Mutex
		appends = map[int64]appendRec{}
		reads   []readRec
		clk     = clock{time.Now()}
		seqs    = make([]int64, o.Clients)
	)
	err := drive(ctx, o, &rep, func(ctx context.Context, client int, reader bool, r *rand.Rand) error {
		call := clk.now()
		if reader {
			all, err := readLists(ctx, target(), o.Namespace)
			if errors.Is(err, errBreach) {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				rep.OK++
				reads = append(reads, readRec{call: call, back: clk.now(), lists: all})
			} else {
				rep.Failed++
			}
			return err
		}
		seqs[client]++
		id := int64(client+1)<<32 | seqs[client]
		l := r.IntN(appendLists)
		err := appendTo(ctx, target(), o.Namespace, l, id)
		if errors.Is(err, errBreach) {
			return err
		}
		res := classify(err)
		mu.Lock()
		defer mu.Unlock()
		appends[id] = appendRec{list: l, call: call, back: clk.now(), res: res}
		rep.count(res)
		return err
	})
	if err != nil {
		return rep, err
	}
	err = finally(ctx, o, func() error {
		call := clk.now()
		all, err := readLists(ctx, target(), o.Namespace)
		if err == nil {
			reads = append(reads, readRec{call: call, back: clk.now(), lists: all})
		}
		return err
	})
	if err != nil {
		return rep, fmt.Errorf("final read: %w", err)
	}
	began := time.Now()
	err = checkLists(appends, reads)
	rep.Check = time.Since(began)
	return rep, err
}

// checkLists checks every list in O(n log n) of the reads and appends: first that all reads of
// a list are prefixes of its longest read, then the longest read's elements, then, by position
// in it, each read against the appends that ended before it began and began after it ended.
func checkLists(appends map[int64]appendRec, reads []readRec) error {
	var errs []error
	fail := func(format string, args ...any) {
		if len(errs) < 5 {
			errs = append(errs, fmt.Errorf("history: "+format, args...))
		}
	}
	for l := 0; l < appendLists; l++ {
		var longest []int64
		for _, rd := range reads {
			if len(rd.lists[l]) > len(longest) {
				longest = rd.lists[l]
			}
		}
		prefixes := true
		for _, rd := range reads {
			if v := rd.lists[l]; !slices.Equal(v, longest[:len(v)]) {
				fail("two reads of %s disagree: %v is no prefix of %v: an append was lost or reordered", listKey(l), v, longest)
				prefixes = false
				break
			}
		}
		if !prefixes {
			continue
		}
		pos := make(map[int64]int, len(longest))
		latestCall := make([]int64, len(longest)) // latestCall[i]: the latest call among longest[:i+1]
		for i, id := range longest {
			a, ok := appends[id]
			_, twice := pos[id]
			switch {
			case !ok || a.list != l:
				fail("%s holds %d, which no Update appended to it", listKey(l), id)
			case twice:
				fail("%s holds %d twice: one append applied twice", listKey(l), id)
			case a.res == failed:
				fail("%s holds %d, whose Update failed: a failed Update took effect", listKey(l), id)
			}
			if !twice {
				pos[id] = i
			}
			latestCall[i] = a.call
			if i > 0 {
				latestCall[i] = max(latestCall[i], latestCall[i-1])
			}
		}
		// The acknowledged appends to l by the time they returned, and the furthest position
		// of any of them by then: an append missing from the longest read is at len(longest).
		type acked struct {
			back     int64
			furthest int
			id       int64
		}
		var done []acked
		for id, a := range appends {
			if a.list == l && a.res == succeeded {
				p, ok := pos[id]
				if !ok {
					p = len(longest)
				}
				done = append(done, acked{back: a.back, furthest: p, id: id})
			}
		}
		slices.SortFunc(done, func(a, b acked) int { return cmp.Compare(a.back, b.back) })
		for i := 1; i < len(done); i++ {
			if done[i].furthest < done[i-1].furthest {
				done[i].furthest, done[i].id = done[i-1].furthest, done[i-1].id
			}
		}
		for _, rd := range reads {
			n := len(rd.lists[l])
			if n > 0 && latestCall[n-1] > rd.back {
				fail("a View of %s read an element before the Update appending it began", listKey(l))
			}
			// The acknowledged appends that returned before this read began.
			k := sort.Search(len(done), func(i int) bool { return done[i].back >= rd.call })
			if k > 0 && done[k-1].furthest >= n {
				fail("a View of %s began after the Update appending %d returned and does not hold it: "+
					"a stale View or a lost write", listKey(l), done[k-1].id)
			}
		}
	}
	return errors.Join(errs...)
}
