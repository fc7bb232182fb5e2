package serial

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
	"github.com/dockyard/dockyard/storetest"
)

// TestConformance runs the whole suite on the driver natively (the wasm form runs it through
// host/wasmhost's TestConformance), with the capabilities drivers/inmem declares.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open: func(context.Context, storetest.T) (store.Store, error) { return pdk.NewStore(New()), nil },
		Caps: storetest.Capabilities{ConcurrentReaders: true},
	})
}

// TestSnapshots interleaves Views with Updates that commit or roll back, at random, and checks
// every read of every View against a copy of the store made when it began: the undo log and
// the overlays must give each View its snapshot, in Get and in Scan (paged), and an Update
// must see its own writes.
func TestSnapshots(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	d := New()
	committed := map[string]string{} // ns "\x00" key -> value
	nss := []string{"a", "b"}
	key := func() string { return fmt.Sprintf("k%02d", rng.IntN(40)) }
	type view struct {
		tx   pdk.Txn
		snap map[string]string
	}
	var (
		views   []view
		w       pdk.Txn
		pending map[string]string // the open Update's view: committed plus its writes
	)
	check := func(tx pdk.Txn, want map[string]string, what string) {
		t.Helper()
		ns := nss[rng.IntN(len(nss))]
		k := key()
		v, err := tx.Get(ctx, ns, k)
		if wv, ok := want[ns+"\x00"+k]; ok {
			if err != nil || string(v) != wv {
				t.Fatalf("%s: Get(%s, %s) = %q, %v; want %q", what, ns, k, v, err, wv)
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s: Get(%s, %s) = %q, %v; want not found", what, ns, k, v, err)
		}
		prefix := []string{"", "k", "k1", "k2"}[rng.IntN(4)]
		var got []string
		after := ""
		for {
			page, more, err := tx.Scan(ctx, ns, prefix, after, 1+rng.IntN(7))
			if err != nil {
				t.Fatalf("%s: Scan: %v", what, err)
			}
			for _, kv := range page {
				got = append(got, kv.Key+"="+string(kv.Value))
				after = kv.Key
			}
			if !more {
				break
			}
		}
		var exp []string
		for nk, v := range want {
			n, k, _ := strings.Cut(nk, "\x00")
			if n == ns && strings.HasPrefix(k, prefix) {
				exp = append(exp, k+"="+v)
			}
		}
		slices.Sort(exp)
		if !slices.Equal(got, exp) {
			t.Fatalf("%s: Scan(%s, %q) = %v, want %v", what, ns, prefix, got, exp)
		}
	}
	for step := range 20000 {
		switch op := rng.IntN(10); {
		case op == 0 && len(views) < 4:
			tx, err := d.Begin(ctx, false)
			if err != nil {
				t.Fatal(err)
			}
			views = append(views, view{tx, maps.Clone(committed)})
		case op == 1 && len(views) > 0:
			i := rng.IntN(len(views))
			if err := views[i].tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			views = slices.Delete(views, i, i+1)
		case op == 2 && w == nil:
			tx, err := d.Begin(ctx, true)
			if err != nil {
				t.Fatal(err)
			}
			w, pending = tx, maps.Clone(committed)
		case op == 3 && w != nil:
			if rng.IntN(3) == 0 {
				if err := w.Rollback(); err != nil {
					t.Fatal(err)
				}
			} else {
				if err := w.Commit(ctx); err != nil {
					t.Fatal(err)
				}
				committed = pending
			}
			w, pending = nil, nil
		case op <= 6 && w != nil:
			ns, k := nss[rng.IntN(len(nss))], key()
			if rng.IntN(4) == 0 {
				if err := w.Delete(ctx, ns, k); err != nil {
					t.Fatal(err)
				}
				delete(pending, ns+"\x00"+k)
			} else {
				v := fmt.Sprintf("v%d", step)
				if err := w.Put(ctx, ns, k, []byte(v)); err != nil {
					t.Fatal(err)
				}
				pending[ns+"\x00"+k] = v
			}
		case op == 7 && w != nil:
			check(w, pending, fmt.Sprintf("step %d, the Update", step))
		default:
			for i, v := range views {
				check(v.tx, v.snap, fmt.Sprintf("step %d, View %d", step, i))
			}
		}
	}
}
