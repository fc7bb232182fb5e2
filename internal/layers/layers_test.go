// Package layers holds one test: that imports point down the layers of docs/design.md, and that
// every package is named for its directory.
package layers

import (
	"encoding/json"
	"io"
	"os/exec"
	"path"
	"strings"
	"testing"
)

const module = "github.com/dockyard/dockyard/"

// rank is each folder's layer, from docs/design.md (the first prefix that matches counts): a
// package may import only packages of a lower layer, or its own subfolders.
var rank = []struct {
	prefix string
	layer  int
}{
	{"internal/regfile", 0}, {"internal/flock", 0}, {"internal/testenv", 0}, {"internal/benchratio", 0}, {"internal/logtest", 0},
	{"store", 1},
	{"storetest/history", 2}, {"storetest", 3}, {"internal/crashtest", 3}, {"internal/multiproc", 3},
	{"pdk/pdktest", 11}, {"pdk/abi", 5}, {"pdk/c", 8}, {"pdk/wasmguest", 7}, {"pdk/wasmnet", 7}, {"pdk/pluginguest", 7}, {"pdk", 4},
	{"internal/wasmbinding", 6}, {"internal/pluginbinding", 6},
	{"drivers/", 8},
	{"internal/instrument", 0}, {"internal/rootfs", 0}, {"internal/testproc", 1}, {"internal/pgtest", 2}, {"internal/etcdtest", 2},
	{"internal/artifactbuild/cmd/", 12}, {"internal/artifactbuild", 1},
	{"host/autoload", 11},                                                              // a loader over host and both transports
	{"host/artifact", 9}, {"host/wasmhost", 10}, {"host/pluginhost", 10}, {"host", 10}, // side by side: host imports no transport
	{"plugins/", 12}, {"cmd/", 12}, {"examples/", 12}, {"bench", 12}, {"internal/layers", 12},
}

func layerOf(p string) (int, bool) {
	rel, ok := strings.CutPrefix(p, module)
	if !ok {
		return 0, false
	}
	for _, r := range rank {
		if rel == strings.TrimSuffix(r.prefix, "/") || strings.HasPrefix(rel, strings.TrimSuffix(r.prefix, "/")+"/") {
			return r.layer, true
		}
	}
	return -1, true
}

// TestImportsPointDown lists every package of the module with its imports and checks each is
// of a lower layer. Tests' imports are not checked: a test may use the test machinery of
// internal/ and the transports it exercises at any layer, which makes nothing depend upward.
func TestImportsPointDown(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Name,Imports", module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	n := 0
	for {
		var p struct {
			ImportPath, Name string
			Imports          []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n++
		if p.Name != "main" && p.Name != path.Base(p.ImportPath) {
			t.Errorf("package %s is named %s, not for its directory", p.ImportPath, p.Name)
		}
		from, _ := layerOf(p.ImportPath)
		if from < 0 {
			t.Errorf("%s has no layer here: add it to rank (and to docs/design.md)", p.ImportPath)
			continue
		}
		for _, imp := range p.Imports {
			to, ours := layerOf(imp)
			if !ours || strings.HasPrefix(imp, p.ImportPath+"/") {
				continue
			}
			if to < 0 || to >= from {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must point down", p.ImportPath, from, imp, to)
			}
		}
	}
	if n < 20 {
		t.Fatalf("go list listed %d packages", n)
	}
}
