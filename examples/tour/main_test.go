package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/host"
	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/internal/etcdtest"
	"github.com/dockyard/dockyard/internal/testenv"
)

// binDir returns a bin directory holding the taskstore and dockyard programs and, for each
// of artifacts, the artifact built from plugins/<name>: "wasm/<name>.wasm" or
// "plugins/<name>".
func binDir(t *testing.T, artifacts ...string) string {
	t.Helper()
	bin := t.TempDir()
	for name, pkg := range map[string]string{"taskstore": "../taskstore", "dockyard": "../../cmd/dockyard"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(bin, name), pkg)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	for _, a := range artifacts {
		var (
			built string
			err   error
		)
		switch dir, file := filepath.Split(a); dir {
		case "wasm/":
			built, err = artifactbuild.Build("../../plugins/" + strings.TrimSuffix(file, ".wasm"))
		case "plugins/":
			built, err = artifactbuild.BuildPlugin("../../plugins/" + file)
		default:
			t.Fatalf("artifact %q: want wasm/NAME.wasm or plugins/NAME", a)
		}
		if err != nil {
			t.Fatal(err)
		}
		code, err := os.ReadFile(built)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(bin, filepath.Dir(a)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(bin, a), code, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return bin
}

// tourDrivers returns the drivers of defaultDrivers named names, in that order.
func tourDrivers(t *testing.T, names ...string) []driver {
	t.Helper()
	var out []driver
	for _, name := range names {
		i := -1
		for j, d := range defaultDrivers {
			if d.name == name {
				i = j
			}
		}
		if i < 0 {
			t.Fatalf("no driver %q in defaultDrivers", name)
		}
		out = append(out, defaultDrivers[i])
	}
	return out
}

// tourConfig returns the config of a tour of bin in fresh directories.
func tourConfig(t *testing.T, bin string) config {
	dir := t.TempDir()
	return config{bin: bin, drivers: filepath.Join(dir, "drivers"), data: filepath.Join(dir, "data"), ops: 30}
}

// wantOutput fails t unless out matches every regular expression of want.
func wantOutput(t *testing.T, out *bytes.Buffer, want ...string) {
	t.Helper()
	for _, w := range want {
		if !regexp.MustCompile(w).Match(out.Bytes()) {
			t.Errorf("output does not match %s:\n%s", w, out.String())
		}
	}
}

// TestTour runs the tour on a bin directory holding the taskstore and dockyard programs and
// one artifact (plugins/inmem as wasm), with a driver whose artifact is missing: the table
// shows the compiled-in and the loaded driver passing, and the missing one is left out.
func TestTour(t *testing.T) {
	cfg := tourConfig(t, binDir(t, "wasm/inmem.wasm"))
	drivers := tourDrivers(t, "inmem", "inmem-wasm", "cinmem-wasm") // cinmem-wasm is not built
	var out bytes.Buffer
	if err := run(context.Background(), cfg, drivers, &out); err != nil {
		t.Fatalf("tour: %v\n%s", err, out.String())
	}
	wantOutput(t, &out,
		`(?m)^!! cinmem-wasm left out: .*cinmem.wasm was not built`,
		`(?m)^inmem\s+in-process\s+PASS \(\d+ cases\)\s+\d+\s*$`,
		`(?m)^inmem-wasm\s+wasm\s+PASS \(\d+ cases\)\s+\d+\s*$`,
		`(?m)^   \| workload: 30 ops in`,
	)
	if _, err := os.Stat(filepath.Join(cfg.drivers, "inmem-wasm.json")); err != nil {
		t.Errorf("no manifest written: %v", err)
	}
}

// TestTourEtcd runs the etcd rows: the compiled-in driver and plugins/etcd as a plugin, on a
// cluster of three members the tour starts. Both pass the whole suite and run taskstore's
// workload; the plugin's manifest lets it connect to the three members; the cluster is gone
// when the tour ends.
func TestTourEtcd(t *testing.T) {
	testenv.LookPath(t, "etcd")
	var cluster *etcdtest.Cluster
	start := startEtcd
	startEtcd = func() (*etcdtest.Cluster, error) {
		c, err := start()
		cluster = c
		return c, err
	}
	t.Cleanup(func() { startEtcd = start })

	cfg := tourConfig(t, binDir(t, "plugins/etcd"))
	var out bytes.Buffer
	if err := run(context.Background(), cfg, tourDrivers(t, "etcd", "etcd-plugin"), &out); err != nil {
		t.Fatalf("tour: %v\n%s", err, out.String())
	}
	wantOutput(t, &out,
		`(?m)^etcd cluster of 3 members: `,
		`(?m)^etcd\s+in-process\s+PASS \(\d+ cases\)\s+\d+\s*$`,
		`(?m)^etcd-plugin\s+plugin\s+PASS \(\d+ cases\)\s+\d+\s*$`,
		`(?m)^   \| opened etcd-plugin store "etcd://`,
		`(?m)^   \| workload: 30 ops in`,
	)
	if cluster == nil {
		t.Fatal("the tour started no cluster")
	}
	b, err := os.ReadFile(filepath.Join(cfg.drivers, "etcd-plugin.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m host.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(m.Sandbox.Connect), fmt.Sprint(cluster.Endpoints()); m.Transport != host.TransportPlugin || got != want {
		t.Errorf("etcd-plugin's manifest: transport %s, sandbox.connect %s; want plugin, %s", m.Transport, got, want)
	}
	for i := range cluster.Size() {
		if cluster.Running(i) {
			t.Errorf("member %d of the tour's cluster outlived the tour", i)
		}
	}
}

// TestTourWithoutEtcd: on a machine without the etcd server, the etcd rows are left out with
// a notice each, and the others run.
func TestTourWithoutEtcd(t *testing.T) {
	start := startEtcd
	startEtcd = func() (*etcdtest.Cluster, error) {
		return nil, fmt.Errorf("etcdtest: %w: exec: \"etcd\": executable file not found in $PATH", etcdtest.ErrUnavailable)
	}
	t.Cleanup(func() { startEtcd = start })

	cfg := tourConfig(t, binDir(t))
	var out bytes.Buffer
	if err := run(context.Background(), cfg, tourDrivers(t, "inmem", "etcd", "etcd-plugin"), &out); err != nil {
		t.Fatalf("tour: %v\n%s", err, out.String())
	}
	wantOutput(t, &out,
		"(?m)^!! etcd left out: no etcd server \\(bin/etcd or in PATH\\) to start a cluster of 3 members \\(`make etcdtools` builds it\\)$",
		`(?m)^!! etcd-plugin left out: no etcd server`,
		`(?m)^inmem\s+in-process\s+PASS \(\d+ cases\)\s+\d+\s*$`,
	)
	if regexp.MustCompile(`(?m)^etcd`).Match(out.Bytes()) {
		t.Errorf("an etcd row ran without etcd:\n%s", out.String())
	}
}
