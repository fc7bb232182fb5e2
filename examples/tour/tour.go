package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
)

// row is one driver's line of the table.
type row struct {
	driver             driver
	passed, failed     int
	conformErr, appErr error
	opsPerSec          float64
}

func (r row) failedAny() bool { return r.conformErr != nil || r.appErr != nil }

// tour runs the conformance suite and the application on d.
func tour(ctx context.Context, cfg config, d driver, out io.Writer) row {
	r := row{driver: d}
	env := append(os.Environ(), "DOCKYARD_DRIVERS="+cfg.drivers)

	var report struct{ Passed, Failed int }
	args := []string{"conform", d.name, "--json"}
	if d.conformDSN != "" {
		args = append(args, "--dsn", d.conformDSN)
	}
	stdout, err := command(ctx, env, filepath.Join(cfg.bin, "dockyard"), args...)
	if jerr := json.Unmarshal(stdout, &report); jerr != nil {
		r.conformErr = fmt.Errorf("dockyard conform %s: %v (%v)", d.name, err, jerr)
		fmt.Fprintf(out, "   %v\n", r.conformErr)
	} else {
		r.passed, r.failed = report.Passed, report.Failed
		fmt.Fprintf(out, "   dockyard conform %s: %d passed, %d failed\n", d.name, r.passed, r.failed)
		if r.failed > 0 || err != nil {
			r.conformErr = fmt.Errorf("dockyard conform %s: %d cases failed (%v)", d.name, r.failed, err)
		}
	}

	dsn := d.dsn(cfg.data)
	stdout, err = command(ctx, env, filepath.Join(cfg.bin, "taskstore"), "-driver", d.name, "-dsn", dsn, "-ops", strconv.Itoa(cfg.ops))
	for _, line := range strings.Split(strings.TrimSpace(string(stdout)), "\n") {
		fmt.Fprintf(out, "   | %s\n", line)
	}
	if err != nil {
		r.appErr = fmt.Errorf("taskstore on %s: %w", d.name, err)
		fmt.Fprintf(out, "   %v\n", r.appErr)
		return r
	}
	m := workloadLine.FindSubmatch(stdout)
	if m == nil {
		r.appErr = fmt.Errorf("taskstore on %s printed no workload line", d.name)
		return r
	}
	r.opsPerSec, _ = strconv.ParseFloat(string(m[1]), 64)
	return r
}

var workloadLine = regexp.MustCompile(`workload: \d+ ops in \S+ \((\d+) ops/s\)`)

// command runs a program and returns its standard output; its standard error is kept for the
// error.
func command(ctx context.Context, env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w: %s", filepath.Base(name), strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

func printTable(out io.Writer, rows []row) {
	fmt.Fprintln(out)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "driver\ttransport\tconformance\tops/s\t")
	for _, r := range rows {
		conf := fmt.Sprintf("PASS (%d cases)", r.passed)
		switch {
		case r.failed > 0:
			conf = fmt.Sprintf("FAIL (%d of %d cases)", r.failed, r.passed+r.failed)
		case r.conformErr != nil:
			conf = "ERROR (see above)"
		}
		ops := strconv.FormatFloat(r.opsPerSec, 'f', 0, 64)
		if r.appErr != nil {
			ops = "ERROR (see above)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t\n", r.driver.name, r.driver.transport, conf, ops)
	}
	w.Flush()
}
