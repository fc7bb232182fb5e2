package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/store"
)

// TestFmtDuration: every duration of text output keeps three significant digits.
func TestFmtDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 5: "5ns", 999: "999ns", 123456: "123µs", 100000: "100µs", 1234567: "1.23ms",
		1234567891: "1.23s", 12345678901: "12.3s", 61234567891: "1m1.2s", 3723456789012: "1h2m0s", -1234567: "-1.23ms",
	} {
		if got := fmtDuration(d); got != want {
			t.Errorf("fmtDuration(%d) = %s, want %s", d, got, want)
		}
	}
}

// roundedDurations fails t unless every duration re matches (its first group) in s is written
// as fmtDuration writes it: Go's own form, three significant digits at most.
func roundedDurations(t *testing.T, what, s string, re *regexp.Regexp) {
	t.Helper()
	ms := re.FindAllStringSubmatch(s, -1)
	if len(ms) == 0 {
		t.Fatalf("%s: no duration in\n%s", what, s)
	}
	for _, m := range ms {
		d, err := time.ParseDuration(m[1])
		if err != nil || d.String() != m[1] || roundDuration(d) != d {
			t.Errorf("%s: duration %q is not rounded to three significant digits (%v):\n%s", what, m[1], err, s)
		}
	}
}

// TestDurationsRounded: bench, copy and conform print durations through fmtDuration.
func TestDurationsRounded(t *testing.T) {
	var out bytes.Buffer
	a := &app{stdout: &out}
	a.printCopy(&copyJSON{From: "sqlite", To: "buntdb", DurationNS: 1234567891, OK: true})
	roundedDurations(t, "copy", out.String(), regexp.MustCompile(` in (\S+);`))
	if !strings.Contains(out.String(), " in 1.23s;") {
		t.Errorf("copy summary:\n%s", out.String())
	}

	out.Reset()
	lat := int64(1234567) // 1.234567ms
	err := a.printBench(&benchJSON{Driver: "inmem", DurationNS: 12345678901, TotalOps: 1, Ops: []benchOpJSON{
		{Op: "get", Count: 1, MeanNS: lat, P50NS: lat, P90NS: lat, P99NS: lat, MaxNS: 123456789},
	}})
	if err != nil {
		t.Fatal(err)
	}
	roundedDurations(t, "bench", out.String(), regexp.MustCompile(`(?:in |\s)(\d[\d.]*(?:ns|µs|ms|s|m\d+s))\b`))
	if !strings.Contains(out.String(), " in 12.3s ") || !strings.Contains(out.String(), "1.23ms") || !strings.Contains(out.String(), "123ms") {
		t.Errorf("bench text:\n%s", out.String())
	}

	r := mustRun(t, exitOK, "", "conform", "--run", "^(Ping|UpdateCommits)$", "inmem")
	roundedDurations(t, "conform", r.stdout, regexp.MustCompile(`(?m)^PASS  \S+ \((\S+)\)$`))
}

// TestCopyProgressHasTotal: copy counts the source's keys first, so its bar has a total and
// an ETA ([elapsed:left]) rather than a spinner's bare count.
func TestCopyProgressHasTotal(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src.db")
	data := copyFixture()
	fill(t, "sqlite", src, data)
	keys := 0
	for _, kvs := range data {
		keys += len(kvs)
	}

	c := &copier{a: &app{progressOK: true, progress: true}, src: openT(t, "sqlite", src)}
	names := []string{binNS, "users", "many"}
	if total, err := c.countForBar(context.Background(), names); err != nil || total != int64(keys) {
		t.Errorf("countForBar = %d, %v; want %d", total, err, keys)
	}
	c.a.progress = false
	if total, err := c.countForBar(context.Background(), names); err != nil || total != -1 {
		t.Errorf("countForBar without a bar = %d, %v; want -1 (no count pass)", total, err)
	}

	r := mustRun(t, exitOK, "", "copy", "--progress", "--from", "sqlite:"+src, "--to", "inmem:")
	for _, phase := range []string{"copying", "verifying"} {
		re := regexp.MustCompile(phase + `[^\r]*\(\d+/` + fmt.Sprint(keys) + `, \d+ keys/[^)]*\) \[\d+s:\d+s\]`)
		if !re.MatchString(r.stderr) {
			t.Errorf("copy --progress: no %s bar counting to %d keys with an ETA:\n%q", phase, keys, r.stderr)
		}
	}
}

// openT opens a store for the length of t.
func openT(t *testing.T, driver, dsn string) store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestBenchProgressCountsOps: bench's bar counts operations, to the number planned with
// --ops; with --duration it counts operations without a made-up total, and says the time left.
func TestBenchProgressCountsOps(t *testing.T) {
	if got := benchBarMax(benchConfig{ops: 500}); got != 500 {
		t.Errorf("benchBarMax(--ops 500) = %d", got)
	}
	if got := benchBarMax(benchConfig{duration: time.Second}); got != -1 {
		t.Errorf("benchBarMax(--duration 1s) = %d, want -1 (the operations are not known in advance)", got)
	}
	r := mustRun(t, exitOK, "", "bench", "--progress", "--driver", "inmem", "--ops", "500", "--keys", "10")
	if !regexp.MustCompile(`running[^\r]*\(\d+/500, \d+ ops/`).MatchString(r.stderr) {
		t.Errorf("bench --ops 500 --progress: no bar counting ops to 500:\n%q", r.stderr)
	}
	r = mustRun(t, exitOK, "", "bench", "--progress", "--driver", "inmem", "--duration", "300ms", "--keys", "10")
	if !regexp.MustCompile(`running, 1s left \(\d+/-, \d+ ops/`).MatchString(r.stderr) || strings.Contains(r.stderr, "/300") {
		t.Errorf("bench --duration 300ms --progress: want a count of ops and the time left, no total of milliseconds:\n%q", r.stderr)
	}
}

// TestKeyFormat: text output shows keys and namespaces the way the command's arguments take
// them: hex for keys with --hex-keys, for the namespace with --hex-ns, each on its own; else
// printable as is and Go-quoted otherwise.
func TestKeyFormat(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "k.db")
	st := []string{"--driver", "sqlite", "--dsn", dsn}
	mustRun(t, exitOK, "", append([]string{"put", "--hex-keys", "users", "6b00ff", "v"}, st...)...)

	r := mustRun(t, exitFailed, "", append([]string{"get", "--hex-keys", "users", "6b6579"}, st...)...)
	if !strings.Contains(r.stderr, "not found: key 6b6579 in namespace users\n") {
		t.Errorf("get --hex-keys of an absent key: stderr %q, want the key in hex and the namespace as it is", r.stderr)
	}
	r = mustRun(t, exitFailed, "", append([]string{"delete", "--hex-ns", "7573657273", "absent"}, st...)...)
	if !strings.Contains(r.stderr, "not found: key absent in namespace 7573657273\n") {
		t.Errorf("delete --hex-ns of an absent key: stderr %q, want the namespace in hex and the key as it is", r.stderr)
	}
	r = mustRun(t, exitFailed, "", append([]string{"get", "users", "a b "}, st...)...)
	if !strings.Contains(r.stderr, `not found: key "a b " in namespace users`) {
		t.Errorf("get of a key ending in a space: stderr %q, want it quoted", r.stderr)
	}

	if r = mustRun(t, exitOK, "", append([]string{"scan", "users"}, st...)...); r.stdout != "\"k\\x00\\xff\"\tv\n" {
		t.Errorf("scan = %q, want the key Go-quoted", r.stdout)
	}
	if r = mustRun(t, exitOK, "", append([]string{"scan", "--hex-keys", "users"}, st...)...); r.stdout != "6b00ff\tv\n" {
		t.Errorf("scan --hex-keys = %q, want the key in hex, the value as it is", r.stdout)
	}
	if r = mustRun(t, exitOK, "", append([]string{"scan", "--hex-keys", "--keys-only", "users"}, st...)...); r.stdout != "6b00ff\n" {
		t.Errorf("scan --hex-keys --keys-only = %q", r.stdout)
	}
	if r = mustRun(t, exitOK, "", append([]string{"scan", "--hex", "users"}, st...)...); r.stdout != "6b00ff\t76\n" {
		t.Errorf("scan --hex = %q", r.stdout)
	}
	for s, want := range map[string]string{"ada": "ada", "": `""`, " ada": `" ada"`, "ada ": `"ada "`, "a b": "a b", "\"x": `"\"x"`, "a\tb": `"a\tb"`} {
		if got := display(s); got != want {
			t.Errorf("display(%q) = %s, want %s", s, got, want)
		}
	}
}

// TestVerboseLogsOnce: with -v, each event is logged once. A driver loaded from a drivers
// directory is logged by package host as it loads it ("driver loaded", or "driver manifest
// unchanged" when this process loaded it before); the CLI must not log it again.
func TestVerboseLogsOnce(t *testing.T) {
	dir := t.TempDir()
	writeManifest(t, dir, "verbose-once", scanOrderWasm(t))
	r := mustRun(t, exitFailed, "", "get", "-v", "--drivers", dir, "--driver", "inmem", "ns", "k")
	var events []string
	for _, line := range strings.Split(r.stderr, "\n") {
		if strings.Contains(line, "verbose-once") && (strings.Contains(line, `msg="driver loaded"`) || strings.Contains(line, `msg="driver manifest unchanged"`)) {
			events = append(events, line)
		}
	}
	if len(events) != 1 {
		t.Errorf("-v logged the loading of driver verbose-once %d times, want once:\n%s", len(events), strings.Join(events, "\n"))
	}
}
