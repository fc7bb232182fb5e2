package history

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dockyard/dockyard/store"
)

// Target returns the store a client's next transaction runs on. A fault that closes a store and
// opens it again makes its Target return the new one.
type Target func() store.Store

// Fixed is the Target of a store that is never replaced.
func Fixed(s store.Store) Target { return func() store.Store { return s } }

// Options shape a run. The zero value is a run of the default size with no faults.
type Options struct {
	// Clients is the number of goroutines running transactions side by side. Default 8.
	Clients int
	// Ops is the number of transactions each client runs at most. Default 150. With a Fault,
	// clients go on past it until the fault has run three times, within Duration.
	Ops int
	// Duration bounds the run: clients start no transaction after it. Default 3 s.
	Duration time.Duration
	// Seed makes the random choices repeatable.
	Seed uint64
	// Namespace the workload writes in. Default "history".
	Namespace string
	// Fault, if set, breaks the store while the clients run: it is called again and again, a
	// FaultInterval apart, until the clients are done. An error from it ends the run. With a
	// Fault, errors from the store are expected and checked for what they mean rather than
	// failing the run, and the final reads retry until the store serves again.
	Fault func(ctx context.Context) error
	// FaultInterval is the pause between two faults. Default 300 ms.
	FaultInterval time.Duration
	// Recover bounds how long the final reads retry after the last fault. Default 30 s.
	Recover time.Duration
}

func (o Options) withDefaults() Options {
	if o.Clients <= 0 {
		o.Clients = 8
	}
	if o.Ops <= 0 {
		o.Ops = 150
	}
	if o.Duration <= 0 {
		o.Duration = 3 * time.Second
	}
	if o.Namespace == "" {
		o.Namespace = "history"
	}
	if o.FaultInterval <= 0 {
		o.FaultInterval = 300 * time.Millisecond
	}
	if o.Recover <= 0 {
		o.Recover = 30 * time.Second
	}
	return o
}

// Report counts what a run did.
type Report struct {
	OK      int           // transactions that succeeded
	Failed  int           // transactions that failed, so had no effect
	Unknown int           // Updates whose commit is unknown (store.ErrCommitUnknown)
	Faults  int           // times Options.Fault ran
	Check   time.Duration // time the check of the history took
}

func (r Report) String() string {
	return fmt.Sprintf("%d ok, %d failed, %d unknown, %d faults, checked in %v", r.OK, r.Failed, r.Unknown, r.Faults, r.Check.Round(time.Millisecond))
}

// count adds one transaction of outcome res.
func (r *Report) count(res outcome) {
	switch res {
	case succeeded:
		r.OK++
	case unknown:
		r.Unknown++
	default:
		r.Failed++
	}
}

// slot returns n for the key prefix+n with 0 <= n < size, and a breach for any other key of a
// Scan of prefix: a key no transaction wrote.
func slot(key, prefix string, size int) (int, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(key, prefix))
	if err != nil || n < 0 || n >= size || prefix+strconv.Itoa(n) != key {
		return 0, breach("Scan returned key %q, which no transaction wrote", key)
	}
	return n, nil
}

// scanSlots scans the keys prefix0 .. prefix<len(dst)-1> of ns and parses each value into its
// slot of dst (slots with no key keep their zero value). Any other key is a breach.
func scanSlots[T any](tx store.Tx, ns, prefix string, dst []T, parse func(key string, v []byte) (T, error)) error {
	kvs, err := tx.Scan(ns, prefix)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		i, err := slot(kv.Key, prefix, len(dst))
		if err != nil {
			return err
		}
		if dst[i], err = parse(kv.Key, kv.Value); err != nil {
			return err
		}
	}
	return nil
}

// outcome is what a transaction's error says about its effect.
type outcome int

const (
	succeeded outcome = iota
	failed            // no effect
	unknown           // may or may not have taken effect
)

func classify(err error) outcome {
	switch {
	case err == nil:
		return succeeded
	case errors.Is(err, store.ErrCommitUnknown):
		return unknown
	default:
		return failed
	}
}

// errBreach marks an answer no store may give, whatever the faults.
var errBreach = errors.New("history: store broke its contract")

func breach(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBreach, fmt.Sprintf(format, args...))
}

// clock gives the monotonic timestamps of calls and returns.
type clock struct{ start time.Time }

func (c clock) now() int64 { return int64(time.Since(c.start)) }

// minFaults is how many faults a run with a Fault lasts for at least, if Duration allows.
const minFaults = 3

// drive runs the clients and the faults. step runs one transaction and returns its error from
// the store; it records the transaction itself. Without a Fault any such error ends the run;
// with one, only a breach does.
//
// A third of the clients are readers: they run only Views, at the writers' pace (about two
// per writer transaction, each after a random part of a writer's mean transaction time), until
// the writers are done (up to 4 × Ops each). Were every client to mix both, they would all soon queue behind the store's
// one writer, and no View would ever run while an Update is half done: the moment a broken
// store shows what it should not.
func drive(ctx context.Context, o Options, rep *Report, step func(ctx context.Context, client int, reader bool, r *rand.Rand) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	deadline := time.Now().Add(o.Duration)
	readers := max(1, o.Clients*3/8)
	if o.Clients == 1 {
		readers = 0
	}
	var (
		clients, writers sync.WaitGroup
		writing          = make(chan struct{})
		ok, bad          atomic.Int64
		pace             atomic.Int64 // writers' mean transaction time, ns
		written          atomic.Int64 // writer transactions done
		faults           atomic.Int64 // faults done
	)
	// With a Fault, clients go on past their Ops until it has run minFaults times (within
	// Duration): on a fast machine the Ops alone may be done before the first fault.
	more := func(i, ops int) bool { return i < ops || o.Fault != nil && faults.Load() < minFaults }
	for c := 0; c < o.Clients; c++ {
		reader := c < readers
		ops := o.Ops
		if reader {
			ops = 4 * o.Ops
		} else {
			writers.Add(1)
		}
		clients.Add(1)
		go func() {
			defer clients.Done()
			if !reader {
				defer writers.Done()
			}
			r := rand.New(rand.NewPCG(o.Seed, uint64(c)))
			for i := 0; more(i, ops) && time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				if reader && i >= o.Ops && closed(writing) {
					return
				}
				if reader {
					// No more than about two Views per writer transaction, at random moments
					// within them.
					for i > 2*int(written.Load())/readers+2 && !closed(writing) && ctx.Err() == nil {
						time.Sleep(50 * time.Microsecond)
					}
					if l := pace.Load(); l > 0 {
						time.Sleep(time.Duration(r.Int64N(l)))
					}
				}
				began := time.Now()
				err := step(ctx, c, reader, r)
				if !reader {
					written.Add(1)
					l := pace.Load()
					pace.Store(l - l/8 + int64(time.Since(began))/8) // racy by design: a rough mean is enough
				}
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, errBreach), o.Fault == nil:
					cancel(fmt.Errorf("client %d, transaction %d: %w", c, i, err))
					return
				default:
					bad.Add(1)
					time.Sleep(5 * time.Millisecond) // back off, as an application would
				}
			}
		}()
	}
	go func() { writers.Wait(); close(writing) }()
	faultsDone := make(chan error, 1)
	clientsDone := make(chan struct{})
	go func() {
		if o.Fault == nil {
			faultsDone <- nil
			return
		}
		for {
			select {
			case <-clientsDone:
				faultsDone <- nil
				return
			case <-time.After(o.FaultInterval):
			}
			if err := o.Fault(ctx); err != nil {
				cancel(fmt.Errorf("fault %d: %w", rep.Faults+1, err))
				faultsDone <- nil
				return
			}
			rep.Faults++
			faults.Add(1)
		}
	}()
	clients.Wait()
	close(clientsDone)
	<-faultsDone
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if ok.Load() == 0 {
		return fmt.Errorf("history: no transaction succeeded (%d failed)", bad.Load())
	}
	return nil
}

func closed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// finally runs fn, the final read of a workload; after faults it retries until the store
// serves again, for at most o.Recover.
func finally(ctx context.Context, o Options, fn func() error) error {
	err := fn()
	if o.Fault == nil || err == nil || errors.Is(err, errBreach) {
		return err
	}
	give := time.Now().Add(o.Recover)
	for time.Now().Before(give) && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
		if err = fn(); err == nil || errors.Is(err, errBreach) {
			return err
		}
	}
	return fmt.Errorf("history: the store did not serve again within %v of the last fault: %w", o.Recover, err)
}

// Workload is one of the package's workloads, by name.
type Workload struct {
	Name string
	Run  func(ctx context.Context, target Target, o Options) (Report, error)
}

// Workloads returns every workload of the package, in a stable order: what a fault harness
// runs.
func Workloads() []Workload {
	return []Workload{{"Registers", Registers}, {"ListAppend", ListAppend}, {"Bank", Bank}}
}
