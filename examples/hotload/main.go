// Command hotload shows an application picking up a storage driver dropped into a directory
// while it runs, with no rebuild and no restart. It polls a drivers directory with
// host.LoadDir; when a new driver appears (a manifest and its artifact, see docs/manifest.md)
// it opens a store on it by name and runs a small workload, printing what it picked up.
//
//	go run ./examples/hotload -dir ./drivers
//
// then, in another shell, drop a driver in (artifact first, manifest last):
//
//	cp bin/wasm/inmem.wasm drivers/
//	cat > drivers/.kv.json.tmp <<EOF
//	{"name": "kv", "transport": "wasm", "artifact": "inmem.wasm",
//	 "sha256": "$(sha256sum bin/wasm/inmem.wasm | cut -d' ' -f1)", "abi": "1.0"}
//	EOF
//	mv drivers/.kv.json.tmp drivers/kv.json
//
// A bad manifest is reported once, and retried at every poll until it is fixed. Interrupt
// (Ctrl-C) ends the program cleanly.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dockyard/dockyard/host"
	_ "github.com/dockyard/dockyard/host/pluginhost" // plugin drivers
	_ "github.com/dockyard/dockyard/host/wasmhost"   // wasm drivers
	"github.com/dockyard/dockyard/store"
)

func main() {
	var cfg config
	flag.StringVar(&cfg.dir, "dir", "./drivers", "drivers directory to watch")
	flag.DurationVar(&cfg.every, "every", 200*time.Millisecond, "how often to look at the directory")
	flag.StringVar(&cfg.data, "data", "", "directory for the stores' data, one subdirectory per driver (default: a temporary directory, removed at exit)")
	flag.Parse()
	cfg.logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "hotload:", err)
		os.Exit(1)
	}
}

// config is what run needs besides its context and output.
type config struct {
	dir    string        // the drivers directory
	every  time.Duration // the polling interval
	data   string        // stores' data directories go under it; "" for a temporary one
	logger *slog.Logger  // for the host package and the drivers; nil for slog.Default()
}

// run watches cfg.dir until ctx is done, then returns nil. Only a failure to set up (no data
// directory) is an error: problems with drivers are printed and the watching goes on.
func run(ctx context.Context, out io.Writer, cfg config) error {
	if cfg.every <= 0 {
		return fmt.Errorf("polling interval %v: must be positive", cfg.every)
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	if cfg.data == "" {
		tmp, err := os.MkdirTemp("", "hotload")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		cfg.data = tmp
	}
	have := strings.Join(store.Drivers(), ", ")
	if have == "" {
		have = "none yet"
	}
	fmt.Fprintf(out, "watching %s every %v (drivers registered: %s)\n", cfg.dir, cfg.every, have)

	tick := time.NewTicker(cfg.every)
	defer tick.Stop()
	lastErr := ""
	for {
		loaded, err := host.LoadDir(ctx, cfg.dir, host.WithLogger(cfg.logger))
		if ctx.Err() != nil {
			break
		}
		// Report a problem once, not at every poll, and say when it is gone.
		switch msg := errText(err); {
		case msg != "" && msg != lastErr:
			fmt.Fprintf(out, "not loaded (retrying until fixed):\n%s\n", indent(msg))
		case msg == "" && lastErr != "":
			fmt.Fprintln(out, "the directory's problems are gone")
		}
		lastErr = errText(err)
		for _, l := range loaded {
			fmt.Fprintf(out, "picked up driver %s: %s transport, artifact %s, sha256 %.12s…, ABI %s\n",
				l.Name, l.Transport, filepath.Base(l.Artifact), l.SHA256, l.ABI)
			if err := workload(ctx, out, l.Name, filepath.Join(cfg.data, l.Name)); err != nil && ctx.Err() == nil {
				fmt.Fprintf(out, "driver %s: workload failed: %v\n", l.Name, err)
			}
		}
		if !sleep(ctx, tick.C) {
			break
		}
	}
	fmt.Fprintln(out, "stopped")
	return nil
}

// sleep waits for the next tick; false if ctx is done first.
func sleep(ctx context.Context, tick <-chan time.Time) bool {
	select {
	case <-ctx.Done():
		return false
	case <-tick:
		return true
	}
}

// workload opens a store on the driver by name, as any application would, writes 100 keys in
// one Update and reads them back.
func workload(ctx context.Context, out io.Writer, driver, dsn string) error {
	start := time.Now()
	s, err := store.Open(ctx, driver, dsn)
	if err != nil {
		return err
	}
	defer s.Close()
	const n = 100
	err = s.Update(ctx, func(tx store.Tx) error {
		for i := range n {
			if err := tx.Put("hotload", fmt.Sprintf("key-%03d", i), fmt.Appendf(nil, "value-%03d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	var scanned int
	var v42 []byte
	err = s.View(ctx, func(tx store.Tx) error {
		kvs, err := tx.Scan("hotload", "key-")
		scanned = len(kvs)
		if err == nil {
			v42, err = tx.Get("hotload", "key-042")
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("view: %w", err)
	}
	if scanned != n || string(v42) != "value-042" {
		return fmt.Errorf("read back %d keys and key-042 = %q, want %d and %q", scanned, v42, n, "value-042")
	}
	if err := s.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	fmt.Fprintf(out, "driver %s: wrote %d keys, scanned %d, key-042 = %s (%v)\n", driver, n, scanned, v42,
		time.Since(start).Round(time.Millisecond))
	return nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }
