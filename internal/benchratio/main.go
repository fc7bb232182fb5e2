// Command benchratio reads `go test -bench` output on standard input and prints, for each
// declared comparison, the ratio of a subject sub-benchmark's time per operation to a baseline
// sub-benchmark's measured in the same run, against the comparison's target.
//
// Absolute benchmark numbers depend on the machine (above all on its disk's fsync); a ratio
// between two implementations run side by side on the same machine does not, much. That is why
// the targets of the store's benchmarks (package bench) are stated as ratios.
//
// A few targets are absolute: a bound on one benchmark's time per operation (opening a wasm
// store, say). Those depend on the machine; they are printed in a table of their own, which
// says so, and count in the summary like the ratios.
//
// Usage:
//
//	go test -run '^$' -bench . -benchmem ./bench/ | go run ./internal/benchratio
//
// Benchmarks report, they do not gate: a missed target is printed as MISS and counted in the
// summary line, but the exit status is 0. It is 1 only when the input holds no benchmark
// results at all (the benchmarks did not build or run) or cannot be read. With -count > 1 the
// median of each benchmark's samples is used. A comparison whose benchmarks are absent from
// the input is reported as missing.
package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/perf/benchfmt"
)

// comparison declares one ratio to report: Op/Subject over Op/Baseline, where Op is a
// top-level benchmark name without "Benchmark" and Subject and Baseline are its
// sub-benchmarks. A Target of 0 means the ratio is informational; otherwise the ratio of time
// per operation must be <= Target.
//
// A comparison without a Baseline is absolute: Op/Subject's time per operation must be <= Max
// (Target is unused; a Max of 0 means the time is only reported). Absolute bounds hold on one
// machine only.
type comparison struct {
	Op                string
	Subject, Baseline string
	Target            float64
	Max               time.Duration
	Note              string
}

// absolute reports whether c bounds a time rather than a ratio.
func (c comparison) absolute() bool { return c.Baseline == "" }

// comparisons is the table of declared comparisons. Later work adds rows here.
var comparisons = []comparison{
	// The price of the seam: the sqlite driver through the pdk adapter against the best plain
	// database/sql code on the same engine, file settings and statements.
	{Op: "GetInView", Subject: "sqlite", Baseline: "modernc", Target: 1.15},
	{Op: "PutInUpdate", Subject: "sqlite", Baseline: "modernc", Target: 1.15},
	{Op: "Update100Puts", Subject: "sqlite", Baseline: "modernc", Target: 1.15},
	{Op: "Scan1000", Subject: "sqlite", Baseline: "modernc", Target: 1.15},
	// The default embedded driver against the obvious pure-Go alternative, both durable.
	{Op: "PutInUpdate", Subject: "sqlite", Baseline: "bbolt", Target: 1.00},
	// Informational: the seam's in-memory floor against an mmap'd B+tree read.
	{Op: "GetInView", Subject: "inmem", Baseline: "bbolt"},

	// PostgreSQL: the postgres driver through the pdk adapter against the same operations in
	// plain pgx (idiomatic transactions) on the same server and table layout, in the same run.
	{Op: "GetInView", Subject: "postgres", Baseline: "pgx", Target: 1.3},
	{Op: "PutInUpdate", Subject: "postgres", Baseline: "pgx", Target: 1.3},
	{Op: "Update100Puts", Subject: "postgres", Baseline: "pgx", Target: 1.3},
	{Op: "Scan1000", Subject: "postgres", Baseline: "pgx"},
	// etcd: the etcd driver through the pdk adapter against the same operations in plain
	// clientv3 on the same 3-member cluster and key layout, in the same run.
	{Op: "GetInView", Subject: "etcd", Baseline: "etcdclient", Target: 1.3},
	{Op: "PutInUpdate", Subject: "etcd", Baseline: "etcdclient", Target: 1.3},
	{Op: "Update100Puts", Subject: "etcd", Baseline: "etcdclient", Target: 1.3},
	{Op: "Scan1000", Subject: "etcd", Baseline: "etcdclient"},

	// WebAssembly: plugins/inmem under host/wasmhost, sandboxed (memory cap and per-call deadline)
	// and trusted, against the same driver in process.
	{Op: "GetInView", Subject: "wasm-inmem", Baseline: "inmem", Target: 3.0},
	{Op: "GetInView", Subject: "wasm-inmem-trusted", Baseline: "inmem", Target: 3.0},
	{Op: "Update100Puts", Subject: "wasm-inmem", Baseline: "inmem", Target: 2.0},
	{Op: "Update100Puts", Subject: "wasm-inmem-trusted", Baseline: "inmem", Target: 2.0},
	{Op: "PutInUpdate", Subject: "wasm-inmem", Baseline: "inmem"},
	{Op: "Scan1000", Subject: "wasm-inmem", Baseline: "inmem"},
	// Scale: a Put in Update at 1M keys against 100k keys (32-byte values, so that 1M keys fit
	// the default sandbox), in the wasm form and in process, and the two forms at 1M.
	{Op: "PutInUpdateScale", Subject: "wasm-inmem/1M", Baseline: "wasm-inmem/100k", Target: 1.5},
	{Op: "PutInUpdateScale", Subject: "inmem/1M", Baseline: "inmem/100k"},
	{Op: "PutInUpdateScale", Subject: "wasm-inmem/1M", Baseline: "inmem/1M"},
	// The ABI natively: pdk adapter -> abi.Client -> frames -> abi.Dispatcher -> inmem in one
	// process, no wasm and no process: what the codec, batching and dispatch cost every remote
	// call.
	{Op: "LoopbackGetInView", Subject: "loopback", Baseline: "inmem", Target: 1.8},
	{Op: "LoopbackPutInUpdate", Subject: "loopback", Baseline: "inmem"},
	{Op: "LoopbackUpdate100Puts", Subject: "loopback", Baseline: "inmem"},
	// The C driver kit (pdk/c, plugins/cinmem): a guest without Go's runtime, same host.
	{Op: "GetInView", Subject: "wasm-c", Baseline: "inmem", Target: 3.0},
	{Op: "Update100Puts", Subject: "wasm-c", Baseline: "inmem", Target: 2.0},
	{Op: "GetInView", Subject: "wasm-c", Baseline: "wasm-inmem"},
	{Op: "Update100Puts", Subject: "wasm-c", Baseline: "wasm-inmem"},
	// Informational: the floor of one call into wasm, with the deadline machinery and without.
	{Op: "WasmCall", Subject: "floor", Baseline: "floor-trusted"},
	// go-plugin: one round trip to a plugin process (a PING to plugins/inmem through
	// host/pluginhost, gRPC with mutual TLS) against the same frame echoed over a bare gRPC stream
	// and a bare Unix socket by a process that does nothing else; and the sqlite plugin against
	// the sqlite driver in process (informational: the price of a process boundary).
	{Op: "RoundTrip", Subject: "plugin", Baseline: "grpc", Target: 1.5},
	{Op: "RoundTrip", Subject: "plugin-no-mtls", Baseline: "grpc"},
	{Op: "RoundTrip", Subject: "grpc", Baseline: "unix"},
	// Informational: the raw byte stream go-plugin's netrpc MuxBroker brokers (yamux over
	// go-plugin's mutual-TLS connection), the carrier a plugin could use instead of gRPC.
	{Op: "RoundTrip", Subject: "mux", Baseline: "grpc"},
	{Op: "RoundTrip", Subject: "mux", Baseline: "unix"},
	{Op: "GetInView", Subject: "sqlite-plugin", Baseline: "sqlite"},
	{Op: "PutInUpdate", Subject: "sqlite-plugin", Baseline: "sqlite"},
	{Op: "Update100Puts", Subject: "sqlite-plugin", Baseline: "sqlite"},
	// Absolute, no bound: starting and stopping a plugin process around a sqlite store.
	{Op: "PluginStart", Subject: "sqlite"},
	// Absolute: opening a store on plugins/inmem, with wazero's compilation cache warm and cold.
	{Op: "WasmOpen", Subject: "warm", Max: 100 * time.Millisecond},
	{Op: "WasmOpen", Subject: "cold", Max: 1500 * time.Millisecond},
}

// stats is what was measured for one benchmark: its samples of each unit.
type stats struct {
	samples map[string][]float64 // unit (as tidied by benchfmt: "sec/op", "allocs/op") -> values
}

// median returns the median of the benchmark's samples in unit, and whether it has any.
func (s *stats) median(unit string) (float64, bool) {
	if s == nil {
		return 0, false
	}
	v := slices.Clone(s.samples[unit])
	if len(v) == 0 {
		return 0, false
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2], true
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2, true
}

// results maps a benchmark's name, without the "Benchmark" prefix and the "-GOMAXPROCS"
// suffix (e.g. "GetInView/sqlite"), to what was measured for it.
type results map[string]*stats

// parse reads go test -bench output. Lines that are not benchmark results are skipped; a
// malformed benchmark line is reported through warn and skipped.
func parse(r io.Reader, warn func(string)) (results, error) {
	res := results{}
	br := benchfmt.NewReader(r, "stdin")
	for br.Scan() {
		switch rec := br.Result().(type) {
		case *benchfmt.SyntaxError:
			warn(rec.Error())
		case *benchfmt.Result:
			name := benchName(rec.Name)
			s := res[name]
			if s == nil {
				s = &stats{samples: map[string][]float64{}}
				res[name] = s
			}
			for _, v := range rec.Values {
				s.samples[v.Unit] = append(s.samples[v.Unit], v.Value)
			}
		}
	}
	return res, br.Err()
}

// benchName returns n without its "Benchmark" prefix and "-GOMAXPROCS" suffix.
func benchName(n benchfmt.Name) string {
	base, parts := n.Parts()
	var b strings.Builder
	b.WriteString(strings.TrimPrefix(string(base), "Benchmark"))
	for _, p := range parts {
		if p[0] == '-' { // GOMAXPROCS, always last
			break
		}
		b.Write(p)
	}
	return b.String()
}

// Status of a comparison.
const (
	statusOK      = "ok"
	statusMiss    = "MISS"
	statusInfo    = "info"
	statusMissing = "missing"
)

// row is one evaluated comparison.
type row struct {
	comparison
	Status string
	// Time is subject/baseline of time per operation; SubjectTime and BaselineTime are in
	// seconds per operation. Set unless Status is missing (Time and BaselineTime are 0 in an
	// absolute row).
	Time, SubjectTime, BaselineTime float64
	// Crossings is the subject's crossings/op (calls into a wasm guest), when it reports them.
	HasCrossings bool
	Crossings    float64
	// Allocs is subject/baseline of allocations per operation, when both report them (with
	// -benchmem or b.ReportAllocs) and the baseline's is not zero.
	HasAllocs                             bool
	Allocs, SubjectAllocs, BaselineAllocs float64
	// Absent names the benchmarks missing from the input, when Status is missing.
	Absent []string
}

// evaluate computes every comparison against res.
func evaluate(res results, cmps []comparison) []row {
	rows := make([]row, 0, len(cmps))
	for _, c := range cmps {
		if c.absolute() {
			rows = append(rows, evaluateAbsolute(res, c))
			continue
		}
		r := row{comparison: c}
		subj, base := res[c.Op+"/"+c.Subject], res[c.Op+"/"+c.Baseline]
		st, okS := subj.median("sec/op")
		bt, okB := base.median("sec/op")
		if !okS {
			r.Absent = append(r.Absent, c.Op+"/"+c.Subject)
		}
		if !okB || bt == 0 {
			r.Absent = append(r.Absent, c.Op+"/"+c.Baseline)
		}
		if len(r.Absent) > 0 {
			r.Status = statusMissing
			rows = append(rows, r)
			continue
		}
		r.SubjectTime, r.BaselineTime, r.Time = st, bt, st/bt
		switch {
		case c.Target == 0:
			r.Status = statusInfo
		case r.Time <= c.Target:
			r.Status = statusOK
		default:
			r.Status = statusMiss
		}
		sa, okS := subj.median("allocs/op")
		ba, okB := base.median("allocs/op")
		if okS && okB && ba > 0 {
			r.HasAllocs, r.SubjectAllocs, r.BaselineAllocs, r.Allocs = true, sa, ba, sa/ba
		}
		r.Crossings, r.HasCrossings = subj.median("crossings/op")
		rows = append(rows, r)
	}
	return rows
}

// evaluateAbsolute checks the subject's time per operation against c.Max.
func evaluateAbsolute(res results, c comparison) row {
	r := row{comparison: c}
	st, ok := res[c.Op+"/"+c.Subject].median("sec/op")
	switch {
	case !ok:
		r.Status, r.Absent = statusMissing, []string{c.Op + "/" + c.Subject}
	case c.Max == 0:
		r.Status, r.SubjectTime = statusInfo, st
	case st <= c.Max.Seconds()*(1+1e-9): // a time equal to the bound, give or take a ns->s rounding
		r.Status, r.SubjectTime = statusOK, st
	default:
		r.Status, r.SubjectTime = statusMiss, st
	}
	return r
}

// summary counts rows by status.
type summary struct{ ok, miss, info, missing int }

func summarize(rows []row) summary {
	var s summary
	for _, r := range rows {
		switch r.Status {
		case statusOK:
			s.ok++
		case statusMiss:
			s.miss++
		case statusInfo:
			s.info++
		case statusMissing:
			s.missing++
		}
	}
	return s
}

func (s summary) String() string {
	verdict := "all targets met"
	if s.miss > 0 || s.missing > 0 {
		verdict = "TARGETS NOT MET"
	}
	return fmt.Sprintf("benchratio: %s: %d ok, %d MISS, %d missing, %d informational",
		verdict, s.ok, s.miss, s.missing, s.info)
}

// write prints the table of ratio rows, the table of absolute rows (if any), and the summary
// line.
func write(w io.Writer, rows []row) {
	var ratios, absolutes []row
	for _, r := range rows {
		if r.absolute() {
			absolutes = append(absolutes, r)
		} else {
			ratios = append(ratios, r)
		}
	}
	writeRatios(w, ratios)
	if len(absolutes) > 0 {
		fmt.Fprintln(w)
		writeAbsolutes(w, absolutes)
	}
	fmt.Fprintln(w, summarize(rows))
}

func writeRatios(w io.Writer, rows []row) {
	opW, pairW := len("operation"), len("subject / baseline")
	for _, r := range rows {
		opW = max(opW, len(r.Op))
		pairW = max(pairW, len(r.Subject)+len(" / ")+len(r.Baseline))
	}
	fmt.Fprintf(w, "%-*s  %-*s  %7s  %-18s  %-7s  %-24s  %s\n", opW, "operation", pairW, "subject / baseline", "time", "target", "status", "allocs", "time per op (subject / baseline)")
	for _, r := range rows {
		pair := r.Subject + " / " + r.Baseline
		if r.Status == statusMissing {
			fmt.Fprintf(w, "%-*s  %-*s  %7s  %-18s  %-7s  (not in input: %s)\n", opW, r.Op, pairW, pair, "-", target(r.Target), r.Status, strings.Join(r.Absent, ", "))
			continue
		}
		allocs := "-"
		if r.HasAllocs {
			allocs = fmt.Sprintf("%.2fx (%.0f / %.0f)", r.Allocs, r.SubjectAllocs, r.BaselineAllocs)
		}
		crossings := ""
		if r.HasCrossings {
			crossings = fmt.Sprintf("  [%s crossings/op]", strconv.FormatFloat(r.Crossings, 'f', -1, 64))
		}
		fmt.Fprintf(w, "%-*s  %-*s  %6.2fx  %-18s  %-7s  %-24s  %s / %s%s\n", opW, r.Op, pairW, pair, r.Time, target(r.Target), r.Status, allocs, duration(r.SubjectTime), duration(r.BaselineTime), crossings)
	}
}

// writeAbsolutes prints the absolute rows under a heading saying they hold on this machine only.
func writeAbsolutes(w io.Writer, rows []row) {
	fmt.Fprintln(w, "absolute times (machine-dependent: a bound on this machine's time per op, not a ratio)")
	opW, subjW := len("operation"), len("subject")
	for _, r := range rows {
		opW = max(opW, len(r.Op))
		subjW = max(subjW, len(r.Subject))
	}
	fmt.Fprintf(w, "%-*s  %-*s  %8s  %-18s  %s\n", opW, "operation", subjW, "subject", "time", "target", "status")
	for _, r := range rows {
		t := "-"
		if r.Status != statusMissing {
			t = duration(r.SubjectTime)
		}
		bound := "(target <= " + r.Max.String() + ")"
		if r.Max == 0 {
			bound = "(no target)"
		}
		line := fmt.Sprintf("%-*s  %-*s  %8s  %-18s  %s", opW, r.Op, subjW, r.Subject, t, bound, r.Status)
		if r.Status == statusMissing {
			line += "  (not in input: " + strings.Join(r.Absent, ", ") + ")"
		}
		fmt.Fprintln(w, line)
	}
}

func target(t float64) string {
	if t == 0 {
		return "(informational)"
	}
	return fmt.Sprintf("(target <= %.2fx)", t)
}

// duration renders seconds per operation in the unit go test uses, ns/op.
func duration(sec float64) string {
	ns := sec * 1e9
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2fs", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.2fms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1fµs", ns/1e3)
	default:
		return fmt.Sprintf("%.0fns", ns)
	}
}

// run is main without the process: it returns the exit status.
func run(in io.Reader, out, errOut io.Writer) int {
	res, err := parse(in, func(msg string) { fmt.Fprintf(errOut, "benchratio: warning: %s\n", msg) })
	if err != nil {
		fmt.Fprintf(errOut, "benchratio: reading benchmark output: %v\n", err)
		return 1
	}
	rows := evaluate(res, comparisons)
	write(out, rows)
	if len(res) == 0 {
		fmt.Fprintln(errOut, "benchratio: no benchmark results in the input (did the benchmarks build and run?)")
		return 1
	}
	return 0
}

func main() {
	os.Exit(run(os.Stdin, os.Stdout, os.Stderr))
}
