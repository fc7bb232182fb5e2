package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dockyard/dockyard/store"
	"github.com/spf13/cobra"
)

// benchNamespace is where bench writes; its keys are deleted at the end. It is a reserved
// namespace, so `namespaces` does not show it.
const benchNamespace = reservedPrefix + "bench"

// The operations of the bench workload, with their weights in the mix.
var benchOps = []struct {
	name   string
	weight int
}{
	{"get", 60},      // a View with one Get of a random key
	{"put", 15},      // an Update with one Put of a random key
	{"update100", 5}, // an Update with 100 Puts of random keys
	{"scan", 20},     // a View with a Scan of a prefix covering 100 keys
}

// benchOpJSON is one operation's figures in bench --json.
type benchOpJSON struct {
	Op        string  `json:"op"`
	Count     uint64  `json:"count"`
	OpsPerSec float64 `json:"ops_per_sec"`
	MeanNS    int64   `json:"mean_ns"`
	P50NS     int64   `json:"p50_ns"`
	P90NS     int64   `json:"p90_ns"`
	P99NS     int64   `json:"p99_ns"`
	MaxNS     int64   `json:"max_ns"`
}

// benchJSON is the output of bench --json.
type benchJSON struct {
	Driver      string        `json:"driver"`
	Version     string        `json:"version,omitempty"`
	Keys        int           `json:"keys"`
	ValueSize   int           `json:"value_size"`
	Concurrency int           `json:"concurrency"`
	PreloadNS   int64         `json:"preload_ns"`
	DurationNS  int64         `json:"duration_ns"`
	TotalOps    uint64        `json:"total_ops"`
	OpsPerSec   float64       `json:"ops_per_sec"`
	Ops         []benchOpJSON `json:"ops"`
}

type benchConfig struct {
	duration    time.Duration
	ops         int64
	keys        int
	valueSize   int
	concurrency int
	seed        uint64
}

func (a *app) benchCommand() *cobra.Command {
	var sf storeFlags
	var cfg benchConfig
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "bench --driver NAME --dsn DSN [--duration D | --ops N]",
		Short: "Run a standard workload against a store and print latencies",
		Long: `bench runs a standard workload against a store: it preloads --keys keys of --value-size
bytes, then runs, for --duration or for --ops operations, a random mix of

  get        60%  a View with one Get of a random key
  put        15%  an Update with one Put of a random key
  update100   5%  an Update with 100 Puts of random keys
  scan       20%  a View with a Scan of a prefix matching 100 keys

from --concurrency goroutines, and prints for each operation its count, ops/s and latency
percentiles (p50, p90, p99, max), measured per operation (a whole View or Update). bench writes
in the reserved namespace "\x00dockyard/bench" and deletes its keys at the end, so it can run
on a live store, but it does load it (and each put is a durable commit on a durable driver).

A progress bar goes to stderr when it is a terminal (or --progress): operations done, out of
--ops with an ETA; for a --duration run, operations done and the time left (how many
operations a duration holds is not known in advance). Latencies are shown to three
significant digits (--json: nanoseconds).

Exit codes: 0 done; 1 the store failed; 2 usage error.`,
		Example: `  dockyard bench --driver sqlite --dsn /tmp/bench.db --duration 10s
  dockyard bench --driver inmem --ops 100000 --json`,
		Args: args(cobra.NoArgs),
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("ops") && cmd.Flags().Changed("duration") {
				return usagef("give --duration or --ops, not both")
			}
			if cmd.Flags().Changed("ops") {
				cfg.duration = 0
			}
			switch {
			case cfg.ops < 0 || (cfg.ops == 0 && cfg.duration <= 0):
				return usagef("--ops must be positive, or --duration")
			case cfg.keys < 1:
				return usagef("--keys %d: must be at least 1", cfg.keys)
			case cfg.valueSize < 0 || cfg.valueSize > store.MaxValueSize:
				return usagef("--value-size %d: must be between 0 and %d", cfg.valueSize, store.MaxValueSize)
			case cfg.concurrency < 1:
				return usagef("--concurrency %d: must be at least 1", cfg.concurrency)
			}
			ctx := cmd.Context()
			driver, dsn, err := sf.spec()
			if err != nil {
				return err
			}
			s, t, err := a.openStore(ctx, driver, dsn)
			if err != nil {
				return err
			}
			defer t.Close()
			defer s.Close()
			out, err := a.bench(ctx, s, cfg)
			if err != nil {
				return fmt.Errorf("bench: %w", err)
			}
			out.Driver = t.Name
			if info, err := infoOf(t.Name, s); err == nil {
				out.Version = info.Version
			}
			if asJSON {
				return writeJSON(a.stdout, out)
			}
			return a.printBench(out)
		}),
	}
	sf.register(cmd)
	f := cmd.Flags()
	f.DurationVar(&cfg.duration, "duration", 10*time.Second, "run the mix for `D`")
	f.Int64Var(&cfg.ops, "ops", 0, "run `N` operations instead of a duration")
	f.IntVar(&cfg.keys, "keys", 10000, "preload `N` keys")
	f.IntVar(&cfg.valueSize, "value-size", 100, "value size in bytes")
	f.IntVar(&cfg.concurrency, "concurrency", 1, "goroutines running the mix")
	f.Uint64Var(&cfg.seed, "seed", 1, "seed of the random mix")
	f.BoolVar(&asJSON, "json", false, "print a JSON object")
	return cmd
}

func benchKey(i int) string { return fmt.Sprintf("key-%08d", i) }

// bench preloads the keys, runs the mix and removes the keys again.
func (a *app) bench(ctx context.Context, s store.Store, cfg benchConfig) (*benchJSON, error) {
	out := &benchJSON{Keys: cfg.keys, ValueSize: cfg.valueSize, Concurrency: cfg.concurrency}
	value := make([]byte, cfg.valueSize)
	vr := rand.New(rand.NewPCG(cfg.seed, 0))
	for i := range value {
		value[i] = byte(vr.Uint32())
	}

	start := time.Now()
	pre := a.newBar(int64(cfg.keys), "preloading")
	for i := 0; i < cfg.keys; i += 1000 {
		end := min(i+1000, cfg.keys)
		err := s.Update(ctx, func(tx store.Tx) error {
			for j := i; j < end; j++ {
				if err := tx.Put(benchNamespace, benchKey(j), value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			pre.finish()
			return nil, fmt.Errorf("preload: %w", err)
		}
		pre.add(int64(end - i))
	}
	pre.finish()
	out.PreloadNS = int64(time.Since(start))
	defer a.benchCleanup(s, cfg.keys)

	hists, elapsed, err := a.runMix(ctx, s, cfg, value)
	if err != nil {
		return nil, err
	}
	out.DurationNS = int64(elapsed)
	for i, op := range benchOps {
		h := hists[i]
		out.TotalOps += h.n
		out.Ops = append(out.Ops, benchOpJSON{
			Op: op.name, Count: h.n, OpsPerSec: float64(h.n) / elapsed.Seconds(), MeanNS: int64(h.mean()),
			P50NS: int64(h.quantile(0.50)), P90NS: int64(h.quantile(0.90)), P99NS: int64(h.quantile(0.99)), MaxNS: int64(h.max),
		})
	}
	out.OpsPerSec = float64(out.TotalOps) / elapsed.Seconds()
	return out, nil
}

// runMix runs the weighted mix of operations from cfg.concurrency goroutines and returns a
// histogram per operation (in benchOps order) and the time it took.
func (a *app) runMix(ctx context.Context, s store.Store, cfg benchConfig, value []byte) ([]*histogram, time.Duration, error) {
	total := 0
	for _, op := range benchOps {
		total += op.weight
	}
	var remaining atomic.Int64
	remaining.Store(cfg.ops)
	start := time.Now()
	deadline := start.Add(cfg.duration)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	done := make([]opCounter, cfg.concurrency)
	stop := a.benchProgress(cfg, deadline, done)
	defer stop()
	results := make([][]*histogram, cfg.concurrency)
	errs := make([]error, cfg.concurrency)
	var wg sync.WaitGroup
	for w := range cfg.concurrency {
		hs := make([]*histogram, len(benchOps))
		for i := range hs {
			hs[i] = new(histogram)
		}
		results[w] = hs
		wg.Go(func() {
			r := rand.New(rand.NewPCG(cfg.seed, uint64(w)+1))
			for n := 0; ; n++ {
				if cfg.ops > 0 {
					if remaining.Add(-1) < 0 {
						return
					}
				} else if n%16 == 0 && time.Now().After(deadline) {
					return
				}
				if ctx.Err() != nil {
					return
				}
				pick, i := r.IntN(total), 0
				for pick >= benchOps[i].weight {
					pick -= benchOps[i].weight
					i++
				}
				t0 := time.Now()
				if err := benchOp(ctx, s, benchOps[i].name, r, cfg.keys, value); err != nil {
					errs[w] = fmt.Errorf("%s: %w", benchOps[i].name, err)
					cancel()
					return
				}
				hs[i].record(time.Since(t0))
				done[w].n.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	stop()
	if err := errors.Join(errs...); err != nil {
		return nil, 0, err
	}
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return nil, 0, err
	}
	merged := make([]*histogram, len(benchOps))
	for i := range merged {
		merged[i] = new(histogram)
		for _, hs := range results {
			merged[i].merge(hs[i])
		}
	}
	return merged, elapsed, nil
}

// benchOp runs one operation of the mix.
func benchOp(ctx context.Context, s store.Store, op string, r *rand.Rand, keys int, value []byte) error {
	switch op {
	case "get":
		k := benchKey(r.IntN(keys))
		return s.View(ctx, func(tx store.Tx) error {
			_, err := tx.Get(benchNamespace, k)
			return err
		})
	case "put":
		k := benchKey(r.IntN(keys))
		return s.Update(ctx, func(tx store.Tx) error { return tx.Put(benchNamespace, k, value) })
	case "update100":
		return s.Update(ctx, func(tx store.Tx) error {
			for range 100 {
				if err := tx.Put(benchNamespace, benchKey(r.IntN(keys)), value); err != nil {
					return err
				}
			}
			return nil
		})
	case "scan":
		// key-%08d without its last two digits: the 100 keys sharing them.
		prefix := benchKey(r.IntN(keys))[:len("key-")+6]
		return s.View(ctx, func(tx store.Tx) error {
			_, err := tx.Scan(benchNamespace, prefix)
			return err
		})
	}
	return fmt.Errorf("unknown operation %q", op)
}

// benchCleanup deletes the bench keys, with a context of its own so it also runs after an
// interrupt.
func (a *app) benchCleanup(s store.Store, keys int) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := 0; i < keys; i += 1000 {
		end := min(i+1000, keys)
		err := s.Update(ctx, func(tx store.Tx) error {
			for j := i; j < end; j++ {
				if err := tx.Delete(benchNamespace, benchKey(j)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			a.logger.Warn("bench: could not delete its keys", "namespace", display(benchNamespace), "err", err)
			return
		}
	}
}
