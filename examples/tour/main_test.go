package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/dockyard/dockyard/internal/artifactbuild"
)

// TestTour runs the tour on a bin directory holding the taskstore and dockyard programs and
// one artifact (plugins/inmem as wasm), with a driver whose artifact is missing: the table
// shows the compiled-in and the loaded driver passing, and the missing one is left out.
func TestTour(t *testing.T) {
	bin := t.TempDir()
	for name, pkg := range map[string]string{"taskstore": "../taskstore", "dockyard": "../../cmd/dockyard"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(bin, name), pkg)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	wasm, err := artifactbuild.Build("../../plugins/inmem")
	if err != nil {
		t.Fatal(err)
	}
	code, err := os.ReadFile(wasm)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(bin, "wasm"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "wasm", "inmem.wasm"), code, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := config{bin: bin, drivers: filepath.Join(dir, "drivers"), data: filepath.Join(dir, "data"), ops: 30}
	drivers := []driver{defaultDrivers[0], defaultDrivers[2], defaultDrivers[4]} // inmem, inmem-wasm, cinmem-wasm (not built)
	var out bytes.Buffer
	if err := run(context.Background(), cfg, drivers, &out); err != nil {
		t.Fatalf("tour: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		`(?m)^!! cinmem-wasm left out: .*cinmem.wasm was not built`,
		`(?m)^inmem\s+in-process\s+PASS \(\d+ cases\)\s+\d+\s*$`,
		`(?m)^inmem-wasm\s+wasm\s+PASS \(\d+ cases\)\s+\d+\s*$`,
		`(?m)^   \| workload: 30 ops in`,
	} {
		if !regexp.MustCompile(want).Match(out.Bytes()) {
			t.Errorf("output does not match %s:\n%s", want, out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(cfg.drivers, "inmem-wasm.json")); err != nil {
		t.Errorf("no manifest written: %v", err)
	}
}
