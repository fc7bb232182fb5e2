package main

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// sample is go test -bench -benchmem output as the bench package prints it, with -count 2 for
// GetInView/sqlite (two samples: the median is their mean), no PutInUpdate/bbolt and no
// Update100Puts at all, noise lines around the results, and one malformed benchmark line;
// then wasm results with crossings/op, and WasmOpen's, which also report ms/op.
const sample = `goos: linux
goarch: amd64
pkg: github.com/dockyard/dockyard/bench
cpu: Some CPU @ 2.00GHz
BenchmarkGetInView/inmem-2         	 1000000	       900.0 ns/op	     328 B/op	       8 allocs/op
BenchmarkGetInView/sqlite-2        	   50000	     21000 ns/op	    2294 B/op	      51 allocs/op
BenchmarkGetInView/sqlite-2        	   50000	     23000 ns/op	    2294 B/op	      51 allocs/op
BenchmarkGetInView/modernc-2       	   60000	     20000 ns/op	    2088 B/op	      47 allocs/op
BenchmarkGetInView/bbolt-2         	  900000	      1200 ns/op	     688 B/op	      10 allocs/op
some log line a benchmark printed
BenchmarkPutInUpdate/sqlite-2      	    5000	    240000 ns/op	    1304 B/op	      33 allocs/op
BenchmarkPutInUpdate/modernc-2     	    5000	    200000 ns/op	    1080 B/op	      29 allocs/op
BenchmarkScan1000/sqlite           	    1000	   1000000 ns/op
BenchmarkScan1000/modernc          	    1000	    900000 ns/op
BenchmarkBroken/sqlite-2           	    1000	   notanumber ns/op
BenchmarkGetInView/wasm-inmem-2    	   50000	      2610 ns/op	         1.000 crossings/op	    1691 B/op	      11 allocs/op
BenchmarkGetInView/wasm-inmem-trusted-2         	  500000	      1800 ns/op	         1.000 crossings/op	     754 B/op	       5 allocs/op
BenchmarkScan1000/wasm-inmem-2     	    1000	   8000000 ns/op	         2.000 crossings/op
BenchmarkWasmCall/floor-2          	 1000000	      1200 ns/op	     182 B/op	       3 allocs/op
BenchmarkWasmCall/floor-trusted-2  	76695183	        16.00 ns/op	       0 B/op	       0 allocs/op
BenchmarkWasmOpen/cold-2           	       1	1200000000 ns/op	      1200 ms/op	65136032 B/op	  265872 allocs/op
BenchmarkWasmOpen/warm-2           	      13	 120000000 ns/op	       120.0 ms/op	16625444 B/op	  223067 allocs/op
PASS
ok  	github.com/dockyard/dockyard/bench	19.322s
`

func TestParse(t *testing.T) {
	var warnings []string
	res, err := parse(strings.NewReader(sample), func(s string) { warnings = append(warnings, s) })
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0], "stdin:15:") {
		t.Errorf("warnings = %q, want one about the malformed line", warnings)
	}
	want := map[string]float64{ // median sec/op
		"GetInView/inmem":     900e-9,
		"GetInView/sqlite":    22000e-9,
		"GetInView/modernc":   20000e-9,
		"GetInView/bbolt":     1200e-9,
		"PutInUpdate/sqlite":  240000e-9,
		"PutInUpdate/modernc": 200000e-9,
		"Scan1000/sqlite":     1000000e-9, // no -GOMAXPROCS suffix: still found
		"Scan1000/modernc":    900000e-9,

		"GetInView/wasm-inmem":         2610e-9,
		"GetInView/wasm-inmem-trusted": 1800e-9,
		"Scan1000/wasm-inmem":          8e-3,
		"WasmCall/floor":               1200e-9,
		"WasmCall/floor-trusted":       16e-9,
		"WasmOpen/cold":                1.2, // its ms/op is not mistaken for time
		"WasmOpen/warm":                0.12,
	}
	if len(res) != len(want) {
		t.Errorf("parsed %d benchmarks, want %d: %v", len(res), len(want), keys(res))
	}
	for name, w := range want {
		got, ok := res[name].median("sec/op")
		if !ok || !approx(got, w) {
			t.Errorf("%s: median sec/op = %g, %v; want %g", name, got, ok, w)
		}
	}
	if a, ok := res["GetInView/sqlite"].median("allocs/op"); !ok || a != 51 {
		t.Errorf("GetInView/sqlite allocs/op = %g, %v; want 51", a, ok)
	}
	if _, ok := res["Scan1000/sqlite"].median("allocs/op"); ok {
		t.Error("Scan1000/sqlite has allocs/op, but the input reported none")
	}
	if c, ok := res["GetInView/wasm-inmem"].median("crossings/op"); !ok || c != 1 {
		t.Errorf("GetInView/wasm-inmem crossings/op = %g, %v; want 1", c, ok)
	}
	if ms, ok := res["WasmOpen/warm"].median("ms/op"); !ok || ms != 120 {
		t.Errorf("WasmOpen/warm ms/op = %g, %v; want 120", ms, ok)
	}
}

func TestEvaluate(t *testing.T) {
	res, err := parse(strings.NewReader(sample), func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	cmps := []comparison{
		{Op: "GetInView", Subject: "sqlite", Baseline: "modernc", Target: 1.15},   // 1.10: ok
		{Op: "PutInUpdate", Subject: "sqlite", Baseline: "modernc", Target: 1.15}, // 1.20: MISS
		{Op: "Scan1000", Subject: "sqlite", Baseline: "modernc", Target: 1.15},    // 1.11, no allocs
		{Op: "PutInUpdate", Subject: "sqlite", Baseline: "bbolt", Target: 1.00},   // baseline absent
		{Op: "Update100Puts", Subject: "sqlite", Baseline: "modernc", Target: 1},  // both absent
		{Op: "GetInView", Subject: "inmem", Baseline: "bbolt"},                    // 0.75: info
	}
	rows := evaluate(res, cmps)
	type want struct {
		status        string
		time, allocs  float64 // 0: not checked / absent
		absent        int
		hasAllocsWant bool
	}
	wants := []want{
		{status: statusOK, time: 22000.0 / 20000, allocs: 51.0 / 47, hasAllocsWant: true},
		{status: statusMiss, time: 1.2, allocs: 33.0 / 29, hasAllocsWant: true},
		{status: statusOK, time: 1.0 / 0.9},
		{status: statusMissing, absent: 1},
		{status: statusMissing, absent: 2},
		{status: statusInfo, time: 0.75, allocs: 0.8, hasAllocsWant: true},
	}
	for i, w := range wants {
		r := rows[i]
		if r.Status != w.status || len(r.Absent) != w.absent || r.HasAllocs != w.hasAllocsWant {
			t.Errorf("row %d (%s %s/%s): status %s, absent %v, allocs %v; want %s, %d absent, allocs %v",
				i, r.Op, r.Subject, r.Baseline, r.Status, r.Absent, r.HasAllocs, w.status, w.absent, w.hasAllocsWant)
		}
		if w.time != 0 && !approx(r.Time, w.time) {
			t.Errorf("row %d: time ratio %g, want %g", i, r.Time, w.time)
		}
		if w.allocs != 0 && !approx(r.Allocs, w.allocs) {
			t.Errorf("row %d: allocs ratio %g, want %g", i, r.Allocs, w.allocs)
		}
	}
	if got := rows[3].Absent; len(got) != 1 || got[0] != "PutInUpdate/bbolt" {
		t.Errorf("absent = %q, want [PutInUpdate/bbolt]", got)
	}
	s := summarize(rows)
	if s != (summary{ok: 2, miss: 1, info: 1, missing: 2}) {
		t.Errorf("summary = %+v", s)
	}
}

// TestEvaluateWasm checks crossings/op on ratio rows and the absolute rows: a bound on one
// benchmark's time, met, missed or absent.
func TestEvaluateWasm(t *testing.T) {
	res, err := parse(strings.NewReader(sample), func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	rows := evaluate(res, []comparison{
		{Op: "GetInView", Subject: "wasm-inmem", Baseline: "inmem", Target: 3},     // 2.9: ok
		{Op: "WasmCall", Subject: "floor", Baseline: "floor-trusted"},              // 75: info
		{Op: "WasmOpen", Subject: "warm", Max: 100 * time.Millisecond},             // 120ms: MISS
		{Op: "WasmOpen", Subject: "cold", Max: 1500 * time.Millisecond},            // 1.2s: ok
		{Op: "WasmOpen", Subject: "absent", Max: time.Second},                      // missing
		{Op: "WasmOpen", Subject: "warm", Max: 120 * time.Millisecond},             // at the bound: ok
		{Op: "Scan1000", Subject: "wasm-inmem", Baseline: "sqlite", Target: 10000}, // 8: ok
		{Op: "WasmOpen", Subject: "cold"},                                          // no bound: info
	})
	want := []struct {
		status    string
		subject   float64 // sec/op
		time      float64 // ratio; 0 for absolute rows
		crossings float64 // 0: none reported
	}{
		{statusOK, 2610e-9, 2.9, 1},
		{statusInfo, 1200e-9, 75, 0},
		{statusMiss, 0.12, 0, 0},
		{statusOK, 1.2, 0, 0},
		{statusMissing, 0, 0, 0},
		{statusOK, 0.12, 0, 0},
		{statusOK, 8e-3, 8, 2},
		{statusInfo, 1.2, 0, 0},
	}
	for i, w := range want {
		r := rows[i]
		if r.Status != w.status || !approx(r.SubjectTime, w.subject) || !approx(r.Time, w.time) ||
			r.HasCrossings != (w.crossings != 0) || r.Crossings != w.crossings {
			t.Errorf("row %d (%s/%s): status %s, subject %g s, ratio %g, crossings %v %g; want %s, %g s, %g, %g",
				i, r.Op, r.Subject, r.Status, r.SubjectTime, r.Time, r.HasCrossings, r.Crossings,
				w.status, w.subject, w.time, w.crossings)
		}
	}
	if got := rows[4].Absent; len(got) != 1 || got[0] != "WasmOpen/absent" {
		t.Errorf("absent = %q, want [WasmOpen/absent]", got)
	}
	if s := summarize(rows); s != (summary{ok: 4, miss: 1, info: 2, missing: 1}) {
		t.Errorf("summary = %+v", s)
	}
}

// TestRun checks the printed report and the exit status: 0 with a miss, 1 with no results.
func TestRun(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(strings.NewReader(sample), &out, &errOut); code != 0 {
		t.Fatalf("exit status %d, want 0 even with misses; stderr:\n%s", code, errOut.String())
	}
	report := out.String()
	for _, line := range []string{
		`GetInView\s+sqlite / modernc\s+1\.10x\s+\(target <= 1\.15x\)\s+ok\s+1\.09x \(51 / 47\)\s+22\.0µs / 20\.0µs`,
		`PutInUpdate\s+sqlite / modernc\s+1\.20x\s+\(target <= 1\.15x\)\s+MISS`,
		`Scan1000\s+sqlite / modernc\s+1\.11x\s+\(target <= 1\.15x\)\s+ok\s+-\s+1\.00ms / 900\.0µs`,
		`PutInUpdate\s+sqlite / bbolt\s+-\s+\(target <= 1\.00x\)\s+missing\s+\(not in input: PutInUpdate/bbolt\)`,
		`Update100Puts\s+sqlite / modernc\s+-\s+\(target <= 1\.15x\)\s+missing`,
		`GetInView\s+inmem / bbolt\s+0\.75x\s+\(informational\)\s+info`,
		`GetInView\s+wasm-inmem / inmem\s+2\.90x\s+\(target <= 3\.00x\)\s+ok\s+1\.38x \(11 / 8\)\s+2\.6µs / 900ns  \[1 crossings/op\]$`,
		`WasmCall\s+floor / floor-trusted\s+75\.00x\s+\(informational\)\s+info\s+-\s+1\.2µs / 16ns$`,
		`absolute times \(machine-dependent`,
		`operation\s+subject\s+time\s+target\s+status$`,
		`WasmOpen\s+warm\s+120\.00ms\s+\(target <= 100ms\)\s+MISS$`,
		`WasmOpen\s+cold\s+1\.20s\s+\(target <= 1\.5s\)\s+ok$`,
		`benchratio: TARGETS NOT MET: 5 ok, 2 MISS, 33 missing, 2 informational`,
	} {
		if !matchLine(report, line) {
			t.Errorf("report has no line matching %s:\n%s", line, report)
		}
	}
	if !strings.Contains(errOut.String(), "warning") {
		t.Errorf("stderr has no warning for the malformed line: %q", errOut.String())
	}

	out.Reset()
	errOut.Reset()
	if code := run(strings.NewReader("FAIL\tgithub.com/dockyard/dockyard/bench [build failed]\n"), &out, &errOut); code != 1 {
		t.Errorf("exit status %d with no results, want 1", code)
	}
	if !strings.Contains(out.String(), fmt.Sprintf(" %d missing", len(comparisons))) {
		t.Errorf("report without results does not count every comparison missing:\n%s", out.String())
	}
}

func TestAllTargetsMet(t *testing.T) {
	rows := []row{{Status: statusOK}, {Status: statusInfo}}
	if got := summarize(rows).String(); !strings.Contains(got, "all targets met") {
		t.Errorf("summary = %q", got)
	}
}

func approx(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }

func keys(res results) []string {
	var ks []string
	for k := range res {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// matchLine reports whether some line of text starts with a match of the regular expression re.
func matchLine(text, re string) bool {
	rx := regexp.MustCompile(`^` + re)
	for _, l := range strings.Split(text, "\n") {
		if rx.MatchString(l) {
			return true
		}
	}
	return false
}
