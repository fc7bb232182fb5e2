package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dockyard/dockyard/host"
	"github.com/dockyard/dockyard/pdk"
)

// driver is one driver of the tour. artifact is "" for a compiled-in driver; otherwise it is
// the artifact's path under the bin directory. dsn returns the DSN of its store under the
// data directory.
type driver struct {
	name, transport, artifact, note string
	dsn                             func(data string) string
	dsnForm                         pdk.DSNForm // an artifact's manifest's dsn_form: conform makes its DSNs of that form

	// server is serverEtcd for a driver whose stores are on the tour's etcd cluster, "" for
	// one whose stores are files (or memory). startServers sets the rest for it: dsn, the
	// conformDSN given to dockyard conform --dsn (its stores are key prefixes under it), and
	// connect, the endpoints its manifest's sandbox lets a plugin connect to.
	server     string
	conformDSN string
	connect    []string
}

func file(name string) func(string) string {
	return func(data string) string { return filepath.Join(data, name) }
}

func none(string) string { return "" }

// defaultDrivers is every driver `make demo` builds, in the order of the table.
var defaultDrivers = []driver{
	{name: "inmem", transport: "in-process", dsn: none},
	{name: "sqlite", transport: "in-process", dsn: file("sqlite.db")},
	{name: "inmem-wasm", transport: "wasm", artifact: "wasm/inmem.wasm", dsn: none, dsnForm: pdk.DSNEmpty},
	{name: "buntdb-wasm", transport: "wasm", artifact: "wasm/buntdb.wasm", dsn: file("buntdb-wasm"), dsnForm: pdk.DSNDir},
	{name: "cinmem-wasm", transport: "wasm", artifact: "wasm/cinmem.wasm", dsn: none, dsnForm: pdk.DSNEmpty,
		note: "the C driver: `make cwasm` needs clang (`make tools`)"},
	{name: "sqlite-plugin", transport: "plugin", artifact: "plugins/sqlite", dsn: file("sqlite-plugin.db"), dsnForm: pdk.DSNFile},
	{name: "etcd", transport: "in-process", server: serverEtcd},
	{name: "etcd-plugin", transport: "plugin", artifact: "plugins/etcd", server: serverEtcd, dsnForm: pdk.DSNServer,
		note: "`make plugins` builds it"},
}

// prepare empties the drivers directory and puts in it each artifact that was built, with its
// manifest. It returns the drivers to tour: the compiled-in ones and those artifacts.
func prepare(cfg config, drivers []driver, out io.Writer) ([]driver, error) {
	if err := os.RemoveAll(cfg.drivers); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.drivers, 0o755); err != nil {
		return nil, err
	}
	var available []driver
	for _, d := range drivers {
		if d.artifact == "" {
			available = append(available, d)
			continue
		}
		code, err := os.ReadFile(filepath.Join(cfg.bin, d.artifact))
		if os.IsNotExist(err) {
			fmt.Fprintf(out, "!! %s left out: %s was not built (%s)\n", d.name, filepath.Join(cfg.bin, d.artifact), d.note)
			continue
		}
		if err != nil {
			return nil, err
		}
		name := filepath.Base(d.artifact)
		path := filepath.Join(cfg.drivers, name)
		if err := os.WriteFile(path, code, 0o755); err != nil {
			return nil, err
		}
		m, err := host.Inspect(path) // the manifest the artifact would have: transport, sha256, ABI
		if err != nil {
			return nil, err
		}
		m.Name, m.Artifact, m.DSNForm = d.name, name, d.dsnForm
		m.Sandbox.Connect = d.connect // a server's endpoints: the plugin may connect to nothing else
		b, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(cfg.drivers, d.name+".json"), append(b, '\n'), 0o644); err != nil {
			return nil, err
		}
		fmt.Fprintf(out, "%s: %s (%s, sha256 %s...)\n", filepath.Join(cfg.drivers, d.name+".json"), name, m.Transport, m.SHA256[:12])
		available = append(available, d)
	}
	return available, nil
}
