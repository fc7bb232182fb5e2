//go:build unix

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/host"
	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/internal/etcdtest"
)

// TestConformEtcdPlugin: conform checks the etcd driver as a plugin artifact, through a
// manifest whose sandbox lets it connect to the cluster: --dsn says the artifact's DSN names a
// server, and the etcd:// form which one, whatever the manifest names the driver.
func TestConformEtcdPlugin(t *testing.T) {
	dsn := etcdtest.DSN(t)
	bin, err := artifactbuild.BuildPlugin("../../plugins/etcd")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	code, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	art := filepath.Join(dir, "etcd-plugin")
	if err := os.WriteFile(art, code, 0o755); err != nil {
		t.Fatal(err)
	}
	m, err := host.Inspect(art)
	if err != nil {
		t.Fatal(err)
	}
	m.Name, m.Artifact = "kv-cluster", "etcd-plugin"
	m.Sandbox.Connect = etcdtest.Endpoints(t)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, "kv-cluster.json")
	if err := os.WriteFile(manifest, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, exitOK, "", "conform", "--json", "--dsn", dsn, "--run", conformCases, manifest)
	var out conformJSON
	decodeJSON(t, r.stdout, &out)
	if out.Passed != 5 || out.Failed != 0 || !out.Caps.Durable || out.Driver != "kv-cluster" || out.Transport != transportPlugin {
		t.Errorf("conform of the etcd plugin: %+v", out)
	}
	if n := etcdKeys(t, etcdPrefix(t, dsn)+"/dockyard_conform_"); n != 0 {
		t.Errorf("conform left %d keys", n)
	}
	// copy through the plugin both ways: a URL DSN of an artifact names a server, not a file
	// that must exist.
	src := filepath.Join(t.TempDir(), "src.db")
	back := filepath.Join(t.TempDir(), "back.db")
	data := copyFixture()
	fill(t, "sqlite", src, data)
	to := manifest + ":" + dsn + "/copied"
	if sum := copySummary(t, exitOK, "--from", "sqlite:"+src, "--to", to, "--batch", "10"); !sum.OK || sum.Written != sum.Keys {
		t.Errorf("copy to the etcd plugin: %+v", sum)
	}
	if sum := copySummary(t, exitOK, "--from", to, "--to", "sqlite:"+back); !sum.OK {
		t.Errorf("copy from the etcd plugin: %+v", sum)
	}
	sameContents(t, "sqlite after a round trip through the etcd plugin", contents(t, "sqlite", back), data)

	// Without --dsn, the artifact's DSN is taken for a directory, as for any artifact: the
	// driver refuses it.
	r = mustRun(t, exitFailed, "", "conform", "--run", "^UpdateCommits$", manifest)
	if !strings.Contains(r.stderr, "want etcd://host:port") {
		t.Errorf("conform of the etcd plugin without --dsn: %s", r.stderr)
	}
}
