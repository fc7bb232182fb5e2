// Command tour is `make demo`: it shows one application binary running on every kind of
// Dockyard driver without being rebuilt.
//
// It takes the driver artifacts `make demo` built (WebAssembly modules in BIN/wasm, plugin
// binaries in BIN/plugins), copies them into a drivers directory with a manifest each (name,
// transport, sha256: docs/manifest.md), and then, for every driver - the compiled-in inmem and
// sqlite, and each artifact - it runs
//
//   - `dockyard conform NAME`, the conformance suite a third-party author runs, and
//   - the unchanged taskstore example binary, with DOCKYARD_DRIVERS naming the drivers
//     directory, which loads the artifacts at start, runs its task workflow and a workload,
//
// and prints a table: driver, transport, conformance result, the workload's ops/s. An
// artifact that was not built (the C driver needs clang) is reported and left out. The exit
// status is 1 if any driver failed.
//
// The etcd rows (the compiled-in etcd driver, and plugins/etcd as a plugin whose manifest's
// sandbox lets it connect to the cluster's members only) run on a throwaway cluster of three
// members that the tour starts on loopback ports (internal/etcdtest) and removes at its end:
// conform gets each store as a key prefix of its own on it, and taskstore a prefix per row.
// Without the etcd server on this machine (`make etcdtools` builds it) those rows are left
// out with a notice.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

func main() {
	var cfg config
	flag.StringVar(&cfg.bin, "bin", "bin", "directory holding wasm/, plugins/, taskstore and dockyard")
	flag.StringVar(&cfg.drivers, "drivers", "data/drivers", "drivers directory to fill with artifacts and manifests")
	flag.StringVar(&cfg.data, "data", "data/tour", "directory for the stores' files (emptied first)")
	flag.IntVar(&cfg.ops, "ops", 300, "task operations in each workload")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, cfg, defaultDrivers, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tour:", err)
		os.Exit(1)
	}
}

// config is where the tour finds its programs and puts its files.
type config struct {
	bin, drivers, data string
	ops                int
}

// run tours drivers, printing progress and the table to out. It fails if a driver fails.
func run(ctx context.Context, cfg config, drivers []driver, out io.Writer) error {
	drivers, stop, err := startServers(drivers, out)
	if err != nil {
		return err
	}
	defer stop()
	available, err := prepare(cfg, drivers, out)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(cfg.data); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.data, 0o755); err != nil {
		return err
	}
	var rows []row
	for _, d := range available {
		fmt.Fprintf(out, "== %s (%s)\n", d.name, d.transport)
		rows = append(rows, tour(ctx, cfg, d, out))
	}
	printTable(out, rows)
	for _, r := range rows {
		if r.failedAny() {
			return fmt.Errorf("driver %s failed", r.driver.name)
		}
	}
	return nil
}
