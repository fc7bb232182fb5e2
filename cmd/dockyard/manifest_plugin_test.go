//go:build unix

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/pdk/abi"
)

// plugin copies the main package pkg, built as a plugin binary, to dir/name and returns its
// path and sha256.
func plugin(t *testing.T, pkg, dir, name string) (string, string) {
	t.Helper()
	bin, err := artifactbuild.BuildPlugin(pkg)
	if err != nil {
		t.Fatal(err)
	}
	return copyArtifact(t, bin, filepath.Join(dir, name), 0o755)
}

// TestManifestWritePlugin writes the manifest of a plugin binary, which conform accepts, and
// conform's --call-timeout reaches the plugin transport.
func TestManifestWritePlugin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	art, sum := plugin(t, "../../plugins/inmem", dir, "dockyard-inmem")
	r := mustRun(t, exitOK, "", "manifest", "write", "--json", "--name", "inmem-plugin-written", art)
	var out manifestWriteJSON
	decodeJSON(t, r.stdout, &out)
	path := filepath.Join(dir, "inmem-plugin-written.json")
	if out.Manifest != path || out.Transport != "plugin" || out.SHA256 != sum || out.ABI != abiVersion() || out.Artifact != "dockyard-inmem" || out.Driver != "inmem" {
		t.Errorf("manifest write --json of a plugin: %+v", out)
	}
	r = mustRun(t, exitOK, "", "conform", "--run", "^(Ping|UpdateCommits|ScanOfManyPages)$", path)
	if !strings.Contains(r.stdout, "conform inmem-plugin-written (plugin,") || !strings.Contains(r.stdout, "3 passed, 0 failed") {
		t.Errorf("conform of the plugin manifest written:\n%s", r.stdout)
	}
	r = mustRun(t, exitFailed, "", "conform", "--run", "^ScanOfManyPages$", "--call-timeout", "1ns", path)
	wantStderr(t, r, "no answer within the call timeout of 1ns", "--call-timeout 1ns")
	mustRun(t, exitOK, "", "manifest", "verify", dir)
}

// TestManifestWriteABIFromHandshake: the manifest's ABI is the one the artifact reports in its
// handshake, not this host's: testdata/oldminor speaks ABI 1.0.
func TestManifestWriteABIFromHandshake(t *testing.T) {
	t.Parallel()
	if abi.Minor == 0 {
		t.Fatal("this host speaks ABI x.0 itself: the fixture cannot tell the versions apart")
	}
	dir := t.TempDir()
	art, _ := plugin(t, "testdata/oldminor", dir, "oldminor")
	r := mustRun(t, exitOK, "", "manifest", "write", art)
	want := fmt.Sprintf("ABI %d.0", abi.Major)
	if !strings.Contains(r.stdout, "transport plugin, "+want+",") || !strings.Contains(r.stdout, "the artifact's handshake: "+want) {
		t.Errorf("manifest write of a plugin speaking %s:\n%s", want, r.stdout)
	}
	if text := readFile(t, filepath.Join(dir, "oldminor.json")); !strings.Contains(text, fmt.Sprintf(`"abi": "%d.0"`, abi.Major)) {
		t.Errorf("the manifest of a plugin speaking %s:\n%s", want, text)
	}
	mustRun(t, exitOK, "", "conform", "--run", "^(Ping|UpdateCommits)$", filepath.Join(dir, "oldminor.json"))
}

// TestManifestWriteDSNForm: the handshake opens the driver on a throwaway DSN of --dsn-form
// (sqlite wants a file, not the directory an artifact gets by default), or on --dsn.
func TestManifestWriteDSNForm(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	art, _ := plugin(t, "../../plugins/sqlite", dir, "dockyard-sqlite")
	r := mustRun(t, exitFailed, "", "manifest", "write", "--name", "sqlite-written", art)
	wantStderr(t, r, "handshake", "dockyard-sqlite", "--dsn-form")
	if _, err := os.Stat(filepath.Join(dir, "sqlite-written.json")); err == nil {
		t.Error("a manifest was written though the handshake failed")
	}
	manifest := filepath.Join(dir, "sqlite-written.json")
	db := filepath.Join(t.TempDir(), "given.db")
	mustRun(t, exitOK, "", "manifest", "write", "--name", "sqlite-written", "--dsn", db, art)
	if _, err := os.Stat(db); err != nil {
		t.Errorf("--dsn %s was not the DSN of the handshake: %v", db, err)
	}
	if text := readFile(t, manifest); strings.Contains(text, "dsn_form") {
		t.Errorf("a manifest written without --dsn-form declares a DSN form:\n%s", text)
	}
	// Without dsn_form, conform takes the artifact's DSN for a directory, which sqlite refuses.
	mustRun(t, exitFailed, "", "conform", "--run", "^Ping$", manifest)

	// --dsn-form is the handshake's and the manifest's, so conform needs no --dsn-form, nor
	// does a drivers directory's user.
	mustRun(t, exitOK, "", "manifest", "write", "--name", "sqlite-written", "--dsn-form", "file", "--force", art)
	if text := readFile(t, manifest); !strings.Contains(text, `"dsn_form": "file"`) {
		t.Errorf("manifest write --dsn-form file:\n%s", text)
	}
	mustRun(t, exitOK, "", "conform", "--run", "^(Ping|Durability)$", manifest)
	mustRun(t, exitOK, "", "conform", "--run", "^Ping$", "--drivers", dir, "sqlite-written")
	// --dsn-form and --dsn together: the form written, the handshake on the DSN given.
	db2 := filepath.Join(t.TempDir(), "given2.db")
	mustRun(t, exitOK, "", "manifest", "write", "--name", "sqlite-written", "--dsn-form", "file", "--dsn", db2, "--force", art)
	if _, err := os.Stat(db2); err != nil || !strings.Contains(readFile(t, manifest), `"dsn_form": "file"`) {
		t.Errorf("--dsn-form file --dsn %s: %v\n%s", db2, err, readFile(t, manifest))
	}
	// A read command on the loaded driver takes its DSN for the file it is, not a directory.
	r = mustRun(t, exitFailed, "", "get", "--drivers", dir, "--store", "sqlite-written:"+db2, "ns", "k")
	wantStderr(t, r, "not found: key k in namespace ns")
}

// TestManifestWriteNotAPlugin: an executable that is no plugin is refused, naming it.
func TestManifestWriteNotAPlugin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho not a plugin\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, exitFailed, "", "manifest", "write", script)
	wantStderr(t, r, "plugin artifact "+script, "did not start")
	if got := files(t, dir); len(got) != 1 {
		t.Errorf("a refused write left %q", got)
	}
}
