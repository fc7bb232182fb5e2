package main

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBenchJSON(t *testing.T) {
	r := mustRun(t, exitOK, "", "bench", "--driver", "inmem", "--ops", "300", "--keys", "250", "--value-size", "10", "--concurrency", "2", "--json")
	var out benchJSON
	decodeJSON(t, r.stdout, &out)
	if out.Driver != "inmem" || out.Keys != 250 || out.ValueSize != 10 || out.Concurrency != 2 || out.TotalOps != 300 {
		t.Errorf("bench: %+v", out)
	}
	if out.DurationNS <= 0 || out.PreloadNS <= 0 || out.OpsPerSec <= 0 {
		t.Errorf("bench: durations and rate %+v", out)
	}
	var names []string
	var sum uint64
	for _, o := range out.Ops {
		names = append(names, o.Op)
		sum += o.Count
		if o.Count == 0 {
			continue
		}
		if !(0 < o.P50NS && o.P50NS <= o.P90NS && o.P90NS <= o.P99NS && o.P99NS <= o.MaxNS) || o.MeanNS <= 0 || o.OpsPerSec <= 0 {
			t.Errorf("bench op %+v: percentiles out of order", o)
		}
	}
	if !slices.Equal(names, []string{"get", "put", "update100", "scan"}) || sum != 300 {
		t.Errorf("bench ops %v, %d operations in all; want get, put, update100, scan and 300", names, sum)
	}
	if r.stderr != "" {
		t.Errorf("bench wrote to stderr (no progress bar expected off a terminal): %q", r.stderr)
	}
}

func TestBenchLeavesNoKeys(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "b.db")
	r := mustRun(t, exitOK, "", "bench", "--driver", "sqlite", "--dsn", dsn, "--duration", "200ms", "--keys", "120")
	if !strings.Contains(r.stdout, "p50") && !strings.Contains(r.stdout, "P50") {
		t.Errorf("bench text output:\n%s", r.stdout)
	}
	r = mustRun(t, exitOK, "", "namespaces", "--all", "--count", "--json", "--driver", "sqlite", "--dsn", dsn)
	var nss []namespaceJSON
	decodeJSON(t, r.stdout, &nss)
	for _, n := range nss {
		if *n.Keys != 0 {
			t.Errorf("bench left %d keys in %s", *n.Keys, n.Display)
		}
	}
}

func TestBenchProgressForced(t *testing.T) {
	r := mustRun(t, exitOK, "", "bench", "--progress", "--driver", "inmem", "--ops", "50", "--keys", "10")
	if !strings.Contains(r.stderr, "running") {
		t.Errorf("--progress drew no bar on stderr: %q", r.stderr)
	}
}

func TestHistogram(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.9, 900 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {1, time.Millisecond}} {
		got := h.quantile(c.q)
		if got > c.want || float64(got) < float64(c.want)*0.98 {
			t.Errorf("quantile(%v) = %v, want within 2%% below %v", c.q, got, c.want)
		}
	}
	if h.max != time.Millisecond || h.n != 1000 {
		t.Errorf("max %v, n %d", h.max, h.n)
	}
	for _, d := range []time.Duration{0, 1, 63, 64, 65, 127, 128, 1 << 20, 1<<40 + 12345} {
		if lo := lowest(bucket(d)); lo > d || float64(d-lo) > float64(d)/64+1 {
			t.Errorf("bucket of %d starts at %d", d, lo)
		}
	}
}

func TestDriversJSON(t *testing.T) {
	r := mustRun(t, exitOK, "", "drivers", "--json")
	var out driversJSON
	decodeJSON(t, r.stdout, &out)
	byName := map[string]driverJSON{}
	for _, d := range out.Drivers {
		byName[d.Name] = d
	}
	for _, c := range []struct {
		name                string
		durable, concurrent bool
	}{{"inmem", false, true}, {"sqlite", true, true}, {"buntdb", true, false}} {
		d, ok := byName[c.name]
		if !ok {
			t.Errorf("drivers does not list %s", c.name)
			continue
		}
		if d.Transport != transportInProcess || d.Caps == nil || d.Caps.Durable != c.durable || d.Caps.ConcurrentReaders != c.concurrent ||
			d.Caps.MaxKeySize != 1024 || d.Caps.MaxValueSize != 4<<20 || d.Caps.MaxNamespaceSize != 256 || d.Version == "" {
			t.Errorf("driver %s: %+v (caps %+v)", c.name, d, d.Caps)
		}
	}
	for _, name := range []string{"postgres", "etcd"} {
		if d, ok := byName[name]; !ok || d.Caps != nil || !strings.Contains(d.Note, "--dsn "+name+"=") {
			t.Errorf("%s: %+v, want it listed without capabilities and a note", name, d)
		}
	}
	for name, form := range map[string]string{"inmem": "empty", "sqlite": "file", "buntdb": "dir", "postgres": "server", "etcd": "server"} {
		if d := byName[name]; d.DSNForm != form || !d.Declared {
			t.Errorf("drivers --json: %s's DSN form is %q (declared %v), want %q, declared", name, d.DSNForm, d.Declared, form)
		}
	}
	r = mustRun(t, exitOK, "", "drivers")
	if !strings.Contains(r.stdout, "NAME") || !regexp.MustCompile(`(?m)^sqlite +in-process +file +1 `).MatchString(r.stdout) {
		t.Errorf("drivers text:\n%s", r.stdout)
	}
	mustRun(t, exitUsage, "", "drivers", "--dsn", "nameonly")
}
