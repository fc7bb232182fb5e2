//go:build unix

package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dockyard/dockyard/host"
	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/internal/pgtest"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/storetest"
)

// TestConformPostgresWasm: conform checks the PostgreSQL driver compiled to WebAssembly
// through a manifest whose sandbox lets it connect to exactly the test server (dsn_form
// server: the DSN goes to the guest unchanged), the whole suite, each case in a table of its
// own, all dropped afterwards.
func TestConformPostgresWasm(t *testing.T) {
	dsn := pgtest.DSN(t)
	wasm, err := artifactbuild.Build("../../plugins/postgres")
	if err != nil {
		t.Fatal(err)
	}
	code, err := os.ReadFile(wasm)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	art := filepath.Join(dir, "postgres.wasm")
	if err := os.WriteFile(art, code, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := host.Inspect(art)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	m.Name, m.Artifact, m.DSNForm = "pg-wasm", "postgres.wasm", pdk.DSNServer
	m.Sandbox.Connect = []string{net.JoinHostPort(pc.Host, strconv.Itoa(int(pc.Port)))}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, "pg-wasm.json")
	if err := os.WriteFile(manifest, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, exitOK, "", "conform", "--json", "--dsn", dsn, manifest)
	var out conformJSON
	decodeJSON(t, r.stdout, &out)
	if out.Failed != 0 || out.Passed != len(storetest.Cases()) || !out.Caps.Durable || out.Driver != "pg-wasm" || out.Transport != transportWasm {
		t.Errorf("conform of the wasm postgres driver: %d passed, %d failed of %d; %+v", out.Passed, out.Failed, len(storetest.Cases()), out)
		for _, res := range out.Results {
			if !res.Passed {
				t.Errorf("FAIL %s: %s", res.Name, res.Log)
			}
		}
	}
	if n := pgTables(t, dsn, conformTables); n != 0 {
		t.Errorf("conform left %d tables on the server", n)
	}
}
