package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/cmd/dockyard/internal/broken"
	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/storetest"
)

func TestConformPasses(t *testing.T) {
	for _, driver := range []string{"inmem", "sqlite", "buntdb"} {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			r := mustRun(t, exitOK, "", "conform", "--json", "--dsn-dir", t.TempDir(), driver)
			var out conformJSON
			decodeJSON(t, r.stdout, &out)
			if out.Failed != 0 || out.Passed != len(storetest.Cases()) || len(out.Results) != out.Passed {
				t.Errorf("conform %s: %d passed, %d failed of %d results, want all %d passed", driver, out.Passed, out.Failed, len(out.Results), len(storetest.Cases()))
			}
			if out.Driver != driver || out.Transport != transportInProcess || out.Caps.Durable != (driver != "inmem") {
				t.Errorf("conform %s: driver %q transport %q caps %+v", driver, out.Driver, out.Transport, out.Caps)
			}
			ran := map[string]bool{}
			for _, res := range out.Results {
				ran[res.Name] = true
				if !res.Passed || res.DurationNS <= 0 {
					t.Errorf("case %+v", res)
				}
			}
			for _, name := range []string{"HistoryIsStrictlySerializable", "ListAppendHistory", "BankTransfersNoWriteSkew"} {
				if !ran[name] {
					t.Errorf("conform %s did not run the history case %s", driver, name)
				}
			}
		})
	}
}

func TestConformText(t *testing.T) {
	r := mustRun(t, exitOK, "", "conform", "--run", "^(Ping|UpdateCommits)$", "inmem")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[1], "PASS  Ping (") || !strings.HasPrefix(lines[2], "PASS  UpdateCommits (") || lines[3] != "2 passed, 0 failed" {
		t.Errorf("conform text output:\n%s", r.stdout)
	}
	r = mustRun(t, exitOK, "", "conform", "--list", "--run", "Scan")
	if !strings.Contains(r.stdout, "ScanIsInByteOrder\n") || strings.Contains(r.stdout, "Ping") {
		t.Errorf("conform --list --run Scan:\n%s", r.stdout)
	}
}

// wantFailures checks conform's output names every case of want as failing, and says so in the
// summary.
func wantFailures(t *testing.T, r result, want ...string) {
	t.Helper()
	for _, name := range want {
		if !strings.Contains(r.stdout, "FAIL  "+name+" (") {
			t.Errorf("output does not name %s as failing:\n%s", name, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, " failed\n") || strings.Contains(r.stdout, ", 0 failed") {
		t.Errorf("no summary of failures:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "cases failed") {
		t.Errorf("stderr %q does not say cases failed", r.stderr)
	}
}

func TestConformFailsBrokenDrivers(t *testing.T) {
	t.Run("scan order", func(t *testing.T) {
		t.Parallel()
		r := mustRun(t, exitFailed, "", "conform", broken.ScanOrderName)
		wantFailures(t, r, "ScanIsInByteOrder", "ScanPrefixBoundaries", "ScanOfManyPages")
		if !strings.Contains(r.stdout, "out of order") {
			t.Errorf("the failures' logs are missing:\n%s", r.stdout)
		}
	})
	t.Run("no rollback", func(t *testing.T) {
		t.Parallel()
		r := mustRun(t, exitFailed, "", "conform", broken.NoRollbackName)
		wantFailures(t, r, "RollbackOnError", "RollbackOnPanic", "MigrateFailureRollsBack")
		if strings.Contains(r.stdout, "FAIL  Ping (") {
			t.Errorf("a case unrelated to rollback failed:\n%s", r.stdout)
		}
	})
	t.Run("json", func(t *testing.T) {
		t.Parallel()
		r := mustRun(t, exitFailed, "", "conform", "--json", "--run", "Rollback", broken.NoRollbackName)
		var out conformJSON
		decodeJSON(t, r.stdout, &out)
		failed := map[string]bool{}
		for _, res := range out.Results {
			if !res.Passed {
				failed[res.Name] = true
				if len(res.Log) == 0 {
					t.Errorf("failed case %s without a log", res.Name)
				}
			}
		}
		if !failed["RollbackOnError"] || !failed["RollbackOnPanic"] || out.Failed != len(failed) || out.Passed+out.Failed != len(out.Results) {
			t.Errorf("conform --json: %+v", out)
		}
	})
}

// scanOrderWasm builds the broken WebAssembly fixture.
func scanOrderWasm(t *testing.T) string {
	t.Helper()
	path, err := artifactbuild.Build("testdata/scanorder")
	if err != nil {
		t.Fatalf("build the wasm fixture: %v", err)
	}
	return path
}

func TestConformFailsBrokenWasmArtifact(t *testing.T) {
	path := scanOrderWasm(t)
	r := mustRun(t, exitFailed, "", "conform", "--run", "^(Ping|ScanIsInByteOrder|ScanPrefixBoundaries)$", path)
	wantFailures(t, r, "ScanIsInByteOrder", "ScanPrefixBoundaries")
	if !strings.Contains(r.stdout, "PASS  Ping (") || !strings.Contains(r.stdout, "1 passed, 2 failed") {
		t.Errorf("conform of the wasm fixture:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "(wasm,") {
		t.Errorf("the transport is not named wasm:\n%s", r.stdout)
	}
}

// writeManifest writes a manifest for the wasm artifact at path into dir, as name.
func writeManifest(t *testing.T, dir, name, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	art := filepath.Join(dir, name+".wasm")
	if err := os.WriteFile(art, b, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := json.Marshal(map[string]any{
		"name": name, "transport": "wasm", "artifact": name + ".wasm",
		"sha256": hex.EncodeToString(sum[:]), "abi": abiVersion(),
	})
	if err != nil {
		t.Fatal(err)
	}
	mp := filepath.Join(dir, name+".json")
	if err := os.WriteFile(mp, m, 0o644); err != nil {
		t.Fatal(err)
	}
	return mp
}

func abiVersion() string { return fmt.Sprintf("%d.%d", abi.Major, abi.Minor) }

func TestConformManifestAndDriverDirectory(t *testing.T) {
	path := scanOrderWasm(t)
	dir := t.TempDir()
	manifest := writeManifest(t, dir, "scanorder-dir", path)

	// A manifest given directly.
	r := mustRun(t, exitFailed, "", "conform", "--run", "^ScanIsInByteOrder$", manifest)
	wantFailures(t, r, "ScanIsInByteOrder")

	// The driver directory, loaded by --drivers: listed, then checked by name.
	r = mustRun(t, exitOK, "", "drivers", "--json", "--drivers", dir)
	var out driversJSON
	decodeJSON(t, r.stdout, &out)
	var found *driverJSON
	for i, d := range out.Drivers {
		if d.Name == "scanorder-dir" {
			found = &out.Drivers[i]
		}
	}
	if found == nil {
		t.Fatalf("drivers --drivers %s does not list scanorder-dir:\n%s", dir, r.stdout)
	}
	b, _ := os.ReadFile(path)
	sum := sha256.Sum256(b)
	if found.Transport != transportWasm || found.SHA256 != hex.EncodeToString(sum[:]) || found.ABI != abiVersion() || found.Caps == nil || found.Caps.Durable {
		t.Errorf("drivers: %+v", found)
	}
	r = mustRun(t, exitFailed, "", "conform", "--drivers", dir, "--run", "^ScanIsInByteOrder$", "scanorder-dir")
	wantFailures(t, r, "ScanIsInByteOrder")

	// The same, through DOCKYARD_DRIVERS.
	t.Setenv("DOCKYARD_DRIVERS", dir)
	r = mustRun(t, exitOK, "", "drivers")
	if !strings.Contains(r.stdout, "scanorder-dir") {
		t.Errorf("drivers with DOCKYARD_DRIVERS=%s:\n%s", dir, r.stdout)
	}
}

func TestBadDriverDirectory(t *testing.T) {
	dir := t.TempDir()
	bad := `{"name": "badhash", "transport": "wasm", "artifact": "x.wasm", "sha256": "` + strings.Repeat("0", 64) + `", "abi": "` + abiVersion() + `"}`
	if err := os.WriteFile(filepath.Join(dir, "x.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "badhash.json"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, exitOK, "", "drivers", "--json", "--drivers", dir)
	var out driversJSON
	decodeJSON(t, r.stdout, &out)
	if len(out.LoadErrors) != 1 || !strings.Contains(out.LoadErrors[0], "badhash.json") || !strings.Contains(out.LoadErrors[0], "sha256") {
		t.Errorf("drivers with a bad manifest: load errors %q", out.LoadErrors)
	}
	r = mustRun(t, exitFailed, "", "get", "--drivers", dir, "--driver", "badhash", "ns", "k")
	if !strings.Contains(r.stderr, "unknown driver") || !strings.Contains(r.stderr, "failed to load") {
		t.Errorf("get on a driver that failed to load: stderr %q", r.stderr)
	}
}
