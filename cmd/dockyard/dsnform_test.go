package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/pdk"
)

// TestDSNFormDeclared: the CLI takes an in-process driver's DSN form from the driver's own
// declaration, not from a list of names it knows, and an artifact's from its manifest;
// artifacts without one and undeclared drivers get a directory, as a guess.
func TestDSNFormDeclared(t *testing.T) {
	pdk.DeclareDSN("test-declared-server", pdk.DSNServer)
	for _, c := range []struct {
		name, transport string
		manifest        pdk.DSNForm
		want            dsnForm
		declared        bool
	}{
		{"test-declared-server", transportInProcess, "", dsnServer, true},
		{"sqlite", transportInProcess, "", dsnFile, true},
		{"inmem", transportInProcess, "", dsnEmpty, true},
		{"buntdb", transportInProcess, "", dsnDir, true},
		{"test-undeclared", transportInProcess, "", dsnDir, false},
		// An artifact is not the in-process driver of its name: its manifest decides.
		{"test-declared-server", transportWasm, "", dsnDir, false},
		{"test-declared-server", transportWasm, pdk.DSNEmpty, dsnEmpty, true},
		{"sqlite-plugin", transportPlugin, pdk.DSNFile, dsnFile, true},
		{"pg-plugin", transportPlugin, pdk.DSNServer, dsnServer, true},
	} {
		if got, declared := formOf(c.name, c.transport, c.manifest); got != c.want || declared != c.declared {
			t.Errorf("formOf(%q, %s, %q) = %s, %v; want %s, %v", c.name, c.transport, c.manifest, got, declared, c.want, c.declared)
		}
	}
}

// TestManifestDSNFormWasm: manifest write --dsn-form writes the manifest's dsn_form, and every
// command takes the driver's DSN for what it declares: drivers shows it, a read command needs
// no --dsn for an empty form, verify names it.
func TestManifestDSNFormWasm(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	art, _ := inmemWasm(t, dir, "inmem.wasm")
	r := mustRun(t, exitOK, "", "manifest", "write", "--json", "--name", "kv-empty", "--dsn-form", "empty", art)
	var out manifestWriteJSON
	decodeJSON(t, r.stdout, &out)
	if out.DSNForm != "empty" {
		t.Errorf("manifest write --json: dsn_form %q, want empty", out.DSNForm)
	}
	path := filepath.Join(dir, "kv-empty.json")
	if text := readFile(t, path); !strings.Contains(text, `"abi": "`+abiVersion()+`",
  "dsn_form": "empty"
}`) {
		t.Errorf("the manifest written:\n%s", text)
	}
	mustRun(t, exitOK, "", "manifest", "write", "--name", "kv-dir", art) // declares none
	if r := mustRun(t, exitOK, "", "manifest", "verify", dir); !strings.Contains(r.stdout, "driver kv-empty, transport wasm, ABI "+abiVersion()+", DSN form empty, artifact") {
		t.Errorf("manifest verify:\n%s", r.stdout)
	}

	var drivers driversJSON
	decodeJSON(t, mustRun(t, exitOK, "", "drivers", "--json", "--drivers", dir).stdout, &drivers)
	forms := map[string]string{}
	for _, d := range drivers.Drivers {
		forms[d.Name] = fmt.Sprintf("%s %v", d.DSNForm, d.Declared)
	}
	if forms["kv-empty"] != "empty true" || forms["kv-dir"] != "dir false" {
		t.Errorf("drivers --json: DSN forms %v; want kv-empty's declared empty, kv-dir's a directory guessed", forms)
	}
	if r := mustRun(t, exitOK, "", "drivers", "--drivers", dir); !regexp.MustCompile(`(?m)^kv-dir +wasm +dir \(guess\) `).MatchString(r.stdout) {
		t.Errorf("drivers:\n%s", r.stdout)
	}

	// A read command: the empty form needs no --dsn (the store is new and empty: not found);
	// a directory does.
	wantStderr(t, mustRun(t, exitFailed, "", "get", "--drivers", dir, "--driver", "kv-empty", "ns", "k"), "not found")
	wantStderr(t, mustRun(t, exitFailed, "", "get", "--driver", path, "ns", "k"), "not found")
	wantStderr(t, mustRun(t, exitUsage, "", "get", "--drivers", dir, "--driver", "kv-dir", "ns", "k"), "--dsn is required: the kv-dir store's directory")
	mustRun(t, exitOK, "", "conform", "--run", "^(Ping|UpdateCommits)$", path)
}
