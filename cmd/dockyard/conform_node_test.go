//go:build linux

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dockyard/dockyard/host"
	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/internal/testenv"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/storetest"
)

// TestConformNodePlugin: the Node.js plugin (plugins/nodeinmem), written from docs/abi.md
// alone, passes the whole conformance suite through its manifest: one bundled file pinned by
// sha256, run by the interpreter the manifest names, in the plugin sandbox, with the read
// paths node needs (its libraries, the loader's cache, OpenSSL's configuration) and the
// option that lets it run its sealed copy (docs/manifest.md, "interpreter").
func TestConformNodePlugin(t *testing.T) {
	node := testenv.LookPath(t, "node")
	bundle, err := artifactbuild.BuildNode("../../plugins/nodeinmem/plugin.js")
	if errors.Is(err, artifactbuild.ErrNoNodeModules) {
		testenv.Unavailable(t, "plugins/nodeinmem/node_modules", err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	code, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "nodeinmem.js"), code, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(code)
	var reads []string
	for _, p := range []string{"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/etc/ld.so.cache", "/etc/ssl/openssl.cnf"} {
		if _, err := os.Stat(p); err == nil {
			reads = append(reads, p)
		}
	}
	m := host.Manifest{
		Name: "nodekv", Transport: host.TransportPlugin, Artifact: "nodeinmem.js",
		SHA256: hex.EncodeToString(sum[:]), ABI: abiVersion(), DSNForm: pdk.DSNEmpty,
		Sandbox: host.Sandbox{Interpreter: node, Read: reads, Env: []string{"NODE_OPTIONS=--preserve-symlinks-main"}},
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, "nodekv.json")
	if err := os.WriteFile(manifest, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, exitOK, "", "conform", "--json", manifest)
	var out conformJSON
	decodeJSON(t, r.stdout, &out)
	if out.Failed != 0 || out.Passed != len(storetest.Cases()) || out.Driver != "nodekv" || out.Transport != transportPlugin || out.Caps.Durable {
		t.Errorf("conform of the Node.js plugin: %d passed, %d failed of %d cases; driver %q transport %q caps %+v",
			out.Passed, out.Failed, len(storetest.Cases()), out.Driver, out.Transport, out.Caps)
		for _, res := range out.Results {
			if !res.Passed {
				t.Errorf("FAIL %s: %s", res.Name, res.Log)
			}
		}
	}
}
