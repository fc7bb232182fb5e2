package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
	"github.com/spf13/cobra"
)

// capsJSON is a driver's declared capabilities in drivers --json.
type capsJSON struct {
	Durable           bool `json:"durable"`
	ConcurrentReaders bool `json:"concurrent_readers"`
	MaxKeySize        int  `json:"max_key_size"`
	MaxValueSize      int  `json:"max_value_size"`
	MaxNamespaceSize  int  `json:"max_namespace_size"`
}

// driverJSON is one driver in drivers --json.
type driverJSON struct {
	Name      string    `json:"name"`
	Transport string    `json:"transport"`
	DSNForm   string    `json:"dsn_form"`          // what a DSN of the driver names: empty, file, dir, server
	Declared  bool      `json:"dsn_form_declared"` // the driver (or its manifest) declares DSNForm; else it is a guess
	Version   string    `json:"version,omitempty"`
	ABI       string    `json:"abi,omitempty"`
	Artifact  string    `json:"artifact,omitempty"`
	Manifest  string    `json:"manifest,omitempty"`
	SHA256    string    `json:"sha256,omitempty"`
	Caps      *capsJSON `json:"caps"`           // null when they could not be read
	Note      string    `json:"note,omitempty"` // why Caps is null
}

// driversJSON is the output of drivers --json.
type driversJSON struct {
	Drivers    []driverJSON `json:"drivers"`
	LoadErrors []string     `json:"load_errors"`
}

func (a *app) driversCommand() *cobra.Command {
	var asJSON bool
	var dsns []string
	cmd := &cobra.Command{
		Use:   "drivers",
		Short: "List the available drivers and their capabilities",
		Long: `drivers lists every driver available: compiled in ("in-process") and loaded from driver
directories ($DOCKYARD_DRIVERS, --drivers) over the "wasm" or "plugin" transport, with the ABI
version and sha256 of loaded artifacts, and the form of each driver's DSN: empty (ignored),
file (a file's path), dir (a directory) or server (a server's address or URL), as the driver
declares it (pdk.DeclareDSN) or its manifest does (dsn_form); "dir (guess)" for an artifact whose
manifest declares none.

The capabilities (durable, concurrent readers, size limits) are what each driver declares when a
store is opened (pdk.InfoOf), so drivers opens one store of each on a throwaway DSN: "" for
inmem, a file in a fresh temporary directory for sqlite, a fresh directory for the others.
A driver that needs a server (postgres, etcd) is probed only when --dsn names one, as NAME=DSN
or, as everywhere else, DRIVER:DSN (--dsn etcd:etcd://host:port,host:port/prefix); otherwise,
or if the probe fails, its capabilities show as "-" (null in JSON, with a "note" saying why).

Exit codes: 0 listed, even if a probe or a driver directory failed (shown in the output);
2 usage error.`,
		Args: args(cobra.NoArgs),
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			given := map[string]string{}
			for _, d := range dsns {
				name, dsn, err := splitProbeDSN(d)
				if err != nil {
					return err
				}
				given[name] = dsn
			}
			ctx := cmd.Context()
			a.loadDrivers(ctx)
			out := driversJSON{Drivers: []driverJSON{}, LoadErrors: []string{}}
			for _, err := range a.loadErrs {
				out.LoadErrors = append(out.LoadErrors, err.Error())
			}
			for _, name := range store.Drivers() {
				out.Drivers = append(out.Drivers, a.describeDriver(ctx, name, given))
			}
			if asJSON {
				return writeJSON(a.stdout, out)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tTRANSPORT\tDSN\tVERSION\tABI\tDURABLE\tCONCURRENT READERS\tMAX KEY\tMAX VALUE\tMAX NAMESPACE\tSHA256")
			for _, d := range out.Drivers {
				c := []string{"-", "-", "-", "-", "-"}
				if d.Caps != nil {
					c = []string{yesNo(d.Caps.Durable), yesNo(d.Caps.ConcurrentReaders),
						strconv.Itoa(d.Caps.MaxKeySize), strconv.Itoa(d.Caps.MaxValueSize), strconv.Itoa(d.Caps.MaxNamespaceSize)}
				}
				form := d.DSNForm
				if !d.Declared && form != "" {
					form += " (guess)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Name, d.Transport, dash(form), dash(d.Version), dash(d.ABI), strings.Join(c, "\t"), dash(d.SHA256))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, d := range out.Drivers {
				if d.Note != "" {
					fmt.Fprintf(a.stdout, "%s: %s\n", d.Name, d.Note)
				}
			}
			for _, e := range out.LoadErrors {
				fmt.Fprintf(a.stdout, "load error: %s\n", e)
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON object {\"drivers\": [...], \"load_errors\": [...]}")
	cmd.Flags().StringArrayVar(&dsns, "dsn", nil, "probe driver NAME on this DSN instead of a throwaway one, `NAME=DSN` or NAME:DSN (repeatable; needed for postgres and etcd)")
	return cmd
}

// describeDriver describes the registered driver name, probing its capabilities.
func (a *app) describeDriver(ctx context.Context, name string, given map[string]string) driverJSON {
	d := driverJSON{Name: name, Transport: transportInProcess}
	t, err := a.resolve(ctx, name)
	if err != nil {
		d.Note = err.Error()
		return d
	}
	defer t.Close()
	d.Transport, d.ABI, d.Artifact, d.Manifest, d.SHA256 = t.Transport, t.ABI, t.Artifact, t.Manifest, t.SHA256
	d.DSNForm, d.Declared = string(t.form), t.declared
	var info pdk.Info
	if dsn, ok := given[name]; ok {
		info, err = a.probeDSN(ctx, t, dsn)
	} else if t.form == dsnServer {
		d.Note = fmt.Sprintf("capabilities not shown: the driver needs a server; give --dsn %s=DSN", name)
		return d
	} else {
		info, err = probe(ctx, t, dirDSNs(t.form, ""))
	}
	if err != nil {
		d.Note = fmt.Sprintf("capabilities not shown: %v", err)
		return d
	}
	d.Version = info.Version
	d.Caps = capsOf(info.Caps)
	return d
}

// splitProbeDSN splits a drivers --dsn value: NAME=DSN, or DRIVER:DSN as --store takes it,
// whichever separator comes first (a driver's name holds neither, a DSN may hold both).
func splitProbeDSN(s string) (name, dsn string, err error) {
	if i, j := strings.IndexByte(s, ':'), strings.IndexByte(s, '='); i >= 0 && (j < 0 || i < j) {
		return splitDriverDSN("--dsn", s)
	}
	name, dsn, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return "", "", usagef("--dsn %q: want NAME=DSN or NAME:DSN", s)
	}
	return name, dsn, nil
}

// probeDSN opens a store of t on dsn, read-only (a listing creates no store: no PostgreSQL
// table, no sqlite file), and returns what its driver declares.
func (a *app) probeDSN(ctx context.Context, t *target, dsn string) (pdk.Info, error) {
	s, err := a.openWith(ctx, t, dsn, true)
	if err != nil {
		return pdk.Info{}, fmt.Errorf("probe %s: open: %w", t.Name, err)
	}
	defer s.Close()
	return infoOf(t.Name, s)
}

// capsOf is c with zero limits replaced by the store's (what the adapter enforces).
func capsOf(c pdk.Capabilities) *capsJSON {
	limit := func(v, max int) int {
		if v <= 0 || v > max {
			return max
		}
		return v
	}
	return &capsJSON{
		Durable:           c.Durable,
		ConcurrentReaders: c.ConcurrentReaders,
		MaxKeySize:        limit(c.MaxKeySize, store.MaxKeySize),
		MaxValueSize:      limit(c.MaxValueSize, store.MaxValueSize),
		MaxNamespaceSize:  limit(c.MaxNamespaceSize, store.MaxNamespaceSize),
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
