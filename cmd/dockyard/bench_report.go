package main

import (
	"fmt"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
)

// printBench prints bench's result as text, every duration through fmtDuration.
func (a *app) printBench(out *benchJSON) error {
	fmt.Fprintf(a.stdout, "%s: %d keys of %d bytes, %d goroutines, %d ops in %s (%.0f ops/s)\n",
		out.Driver, out.Keys, out.ValueSize, out.Concurrency, out.TotalOps,
		fmtDuration(time.Duration(out.DurationNS)), out.OpsPerSec)
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "OP\tCOUNT\tOPS/S\tMEAN\tP50\tP90\tP99\tMAX\t")
	for _, o := range out.Ops {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t\n", o.Op, o.Count, o.OpsPerSec,
			fmtDuration(time.Duration(o.MeanNS)), fmtDuration(time.Duration(o.P50NS)), fmtDuration(time.Duration(o.P90NS)),
			fmtDuration(time.Duration(o.P99NS)), fmtDuration(time.Duration(o.MaxNS)))
	}
	return tw.Flush()
}

// opCounter counts one goroutine's operations. Each goroutine has its own, padded to a cache
// line, so counting costs an uncontended atomic add and not a lock shared by every goroutine
// (the bar's own), which would be measured as part of every operation's latency.
type opCounter struct {
	n atomic.Int64
	_ [56]byte
}

// benchBarMax is the total of bench's bar: the operations planned with --ops, so the bar
// shows how many are done and an ETA. With --duration the number of operations is not known
// in advance, and a total made of time ticks (the old bar counted milliseconds as if they
// were operations) or of a guess from the rate so far would not be a count of anything: the
// bar is then a spinner counting operations done, and the time left, which is known, is
// in its description.
func benchBarMax(cfg benchConfig) int64 {
	if cfg.ops > 0 {
		return cfg.ops
	}
	return -1
}

// benchProgress draws bench's bar, if progress bars are on: every 100ms it sets the bar to
// the operations counted in done (and, for a --duration run, the time left before deadline).
// The returned stop ends the drawing and clears the bar; it may be called more than once.
func (a *app) benchProgress(cfg benchConfig, deadline time.Time, done []opCounter) (stop func()) {
	b := a.newBar(benchBarMax(cfg), "running", progressbar.OptionSetItsString("ops"))
	if b == nil {
		return func() {}
	}
	describe := func() {
		if cfg.ops == 0 {
			// Whole seconds, rounded up: "0s left" while it runs would be wrong.
			left := (max(time.Until(deadline), 0) + time.Second - 1).Truncate(time.Second)
			b.describe(fmt.Sprintf("running, %v left", left))
		}
	}
	count := func() (n int64) {
		for i := range done {
			n += done[i].n.Load()
		}
		return n
	}
	describe()
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
			}
			describe()
			b.set(count())
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(quit)
			<-finished
			b.set(count()) // the bar ends on the true count, not the last tick's
			b.finish()
		})
	}
}
