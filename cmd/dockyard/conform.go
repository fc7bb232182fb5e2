package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/storetest"
	"github.com/spf13/cobra"
)

// conformResultJSON is one case in conform --json.
type conformResultJSON struct {
	Name       string   `json:"name"`
	Passed     bool     `json:"passed"`
	DurationNS int64    `json:"duration_ns"`
	Log        []string `json:"log"`
}

// conformJSON is the output of conform --json.
type conformJSON struct {
	Driver    string              `json:"driver"`
	Transport string              `json:"transport"`
	Version   string              `json:"version"`
	SHA256    string              `json:"sha256,omitempty"`
	Caps      capsJSON            `json:"caps"`
	Results   []conformResultJSON `json:"results"`
	Passed    int                 `json:"passed"`
	Failed    int                 `json:"failed"`
}

func (a *app) conformCommand() *cobra.Command {
	var asJSON, list bool
	var runRE, dsnDir, dsnFormFlag, serverDSN string
	var timeout, callTimeout time.Duration
	cmd := &cobra.Command{
		Use:   "conform <name | manifest.json | artifact>",
		Short: "Run the conformance suite against a driver",
		Long: `conform runs the storetest conformance suite, the very cases every Dockyard driver passes
under go test, against a driver: a registered driver's NAME, a manifest (*.json), or a bare
artifact (a .wasm module, or a plugin executable). This is what a driver author runs before
shipping.

Every case gets fresh stores, each on a fresh DSN of the form the driver declares (an
in-process driver's, or a manifest's dsn_form): "" for inmem and for the empty form, a file in
a fresh directory for sqlite and the file form, a fresh directory for buntdb, the dir form, and
an artifact that declares none (--dsn-form overrides it); the directories are made under --dsn-dir (default: the system's temporary
directory) and removed afterwards. The capabilities checked (durable, concurrent readers) are
those the driver declares (pdk.InfoOf); for a durable driver, the suite reopens a store on its
DSN. A driver whose DSN names a server (postgres, etcd) needs one, given with --dsn; the DSN's
form says which kind of server it is, whatever the driver's name:

  - a PostgreSQL server (postgres://..., postgresql://... or key=value): every store gets a
    table of its own there (the driver's dockyard_table parameter), dropped afterwards;
  - an etcd cluster (etcd://host:port[,host:port...][/prefix][?params]): every store gets a
    key prefix of its own under the DSN's prefix (at the top of the key space when it names
    none), whose keys are deleted afterwards.

A manifest whose dsn_form is server needs --dsn as postgres does; for a bare artifact, or a
manifest that declares no form, --dsn says that its DSN names a server. Other servers cannot be checked by conform, as it cannot make a fresh, empty
store on them; run the driver's own go test.

Every call into a wasm or plugin driver has a deadline, its manifest's sandbox.call_timeout
(30s for a bare artifact). --call-timeout replaces it for the run, so that a slow but correct
driver can pass a case with long calls (ScanOfManyPages); any positive deadline up to 1h is
taken, one below a manifest's least (10ms) too, to try a driver at a short deadline. For a
driver loaded from a drivers directory, conform opens its manifest anew with that deadline; an
in-process driver has no calls to bound. --timeout bounds each case as a whole.

One line per case, PASS or FAIL with its duration and, for failures, the case's log; then
"N passed, M failed". --json prints one object instead.

Exit codes: 0 every case passed; 1 a case failed, or the driver could not be opened; 2 usage
error (including a --run that selects no case).`,
		Example: `  dockyard conform sqlite
  dockyard conform ./bin/wasm/inmem.wasm --run 'Scan|Rollback'
  dockyard conform ./drivers.d/mydriver.json --json
  dockyard conform ./drivers.d/slowdriver.json --call-timeout 2m --timeout 10m
  dockyard conform postgres --dsn 'host=db user=app dbname=scratch'
  dockyard conform ./drivers.d/etcd-plugin.json --dsn etcd://etcd1:2379,etcd2:2379,etcd3:2379/scratch`,
		Args: args(cobra.RangeArgs(0, 1)),
		RunE: a.action(func(cmd *cobra.Command, argv []string) error {
			cases := storetest.Cases()
			if runRE != "" {
				re, err := regexp.Compile(runRE)
				if err != nil {
					return usagef("--run %q: %v", runRE, err)
				}
				var keep []storetest.Case
				for _, c := range cases {
					if re.MatchString(c.Name) {
						keep = append(keep, c)
					}
				}
				if len(keep) == 0 {
					return usagef("--run %q selects no case (see conform --list)", runRE)
				}
				cases = keep
			}
			if list {
				for _, c := range cases {
					fmt.Fprintln(a.stdout, c.Name)
				}
				return nil
			}
			if len(argv) != 1 {
				return usagef("conform needs one driver: a name, a manifest or an artifact")
			}
			if timeout <= 0 {
				return usagef("--timeout %v: must be positive", timeout)
			}
			if cmd.Flags().Changed("call-timeout") {
				if callTimeout <= 0 || callTimeout > maxCallTimeout {
					return usagef("--call-timeout %v: want a positive duration, at most %v", callTimeout, maxCallTimeout)
				}
				a.callTimeout = callTimeout
			}
			ctx := cmd.Context()
			t, err := a.resolve(ctx, argv[0])
			if err != nil {
				return err
			}
			defer t.Close()
			form, err := parseDSNForm(dsnFormFlag, t.form)
			if err != nil {
				return err
			}
			if serverDSN != "" && (dsnFormFlag == "" || dsnFormFlag == "auto") && !t.declaresForm() {
				form = dsnServer // the form of an artifact's DSN is a guess: --dsn says it names a server
			}
			newDSN := dirDSNs(form, dsnDir)
			switch {
			case form == dsnServer && serverDSN == "":
				return usagef("conform %s needs --dsn naming a server: a PostgreSQL server (each case gets tables of its own there) or an etcd cluster (key prefixes of its own), removed afterwards", t.Name)
			case form == dsnServer:
				ss, err := newServerStores(serverDSN)
				if err != nil {
					return err
				}
				defer func() {
					ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
					defer cancel()
					if err := ss.drop(ctx); err != nil {
						a.logger.Warn("conform: stores left on the server", "stores", ss.what(), "err", err)
					}
				}()
				newDSN = func() (string, func(), error) {
					dsn, err := ss.next()
					return dsn, func() {}, err
				}
			case serverDSN != "":
				return usagef("--dsn is for drivers whose DSN names a server (postgres, etcd); %s makes its stores in --dsn-dir", t.Name)
			}
			info, err := probe(ctx, t, newDSN)
			if err != nil && a.callTimeout != 0 {
				return fmt.Errorf("conform: %w (each call's deadline: --call-timeout %v)", err, a.callTimeout)
			}
			if err != nil {
				return fmt.Errorf("conform: %w", err)
			}
			return a.runConform(ctx, t, info, cases, newHarness(ctx, t, newDSN, info.Caps), timeout, asJSON)
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print a JSON object with every case's result")
	f.BoolVar(&list, "list", false, "list the cases (those --run selects) and exit")
	f.StringVar(&runRE, "run", "", "run only the cases whose names match `REGEXP`")
	f.StringVar(&dsnDir, "dsn-dir", "", "make the cases' data directories under `DIR`")
	f.StringVar(&serverDSN, "dsn", "", "for a driver whose DSN names a server (postgres, etcd): the server's `DSN`; every store gets a table (postgres) or a key prefix (etcd) of its own there, all removed at the end")
	f.StringVar(&dsnFormFlag, "dsn-form", "auto", "what a DSN of the driver is: auto (as the driver or its manifest declares, else a directory), empty, file (a file path), dir (a directory) or server (with --dsn)")
	f.DurationVar(&timeout, "timeout", 2*time.Minute, "fail a case still running after `D`")
	f.DurationVar(&callTimeout, "call-timeout", 0, "the deadline `D` of each call into a wasm or plugin driver (default: its manifest's sandbox.call_timeout, else 30s)")
	return cmd
}

// runConform runs cases against h and reports them; any failed case fails it.
func (a *app) runConform(ctx context.Context, t *target, info pdk.Info, cases []storetest.Case, h storetest.Harness, timeout time.Duration, asJSON bool) error {
	out := conformJSON{Driver: t.Name, Transport: t.Transport, Version: info.Version, SHA256: t.SHA256,
		Caps: *capsOf(info.Caps), Results: []conformResultJSON{}}
	if !asJSON {
		fmt.Fprintf(a.stdout, "conform %s (%s, version %s): durable=%s concurrent-readers=%s, %d cases\n",
			t.Name, t.Transport, dash(info.Version), yesNo(info.Caps.Durable), yesNo(info.Caps.ConcurrentReaders), len(cases))
	}
	report := func(r storetest.Result) {
		if r.Passed {
			out.Passed++
		} else {
			out.Failed++
		}
		out.Results = append(out.Results, conformResultJSON{Name: r.Name, Passed: r.Passed, DurationNS: int64(r.Duration), Log: append([]string{}, r.Log...)})
		if asJSON {
			return
		}
		verdict := "PASS"
		if !r.Passed {
			verdict = "FAIL"
		}
		fmt.Fprintf(a.stdout, "%s  %s (%s)\n", verdict, r.Name, fmtDuration(r.Duration))
		if !r.Passed {
			for _, l := range r.Log {
				fmt.Fprintf(a.stdout, "        %s\n", strings.ReplaceAll(l, "\n", "\n        "))
			}
		}
	}
	storetest.CheckCases(cases, h, timeout, report)
	if asJSON {
		if err := writeJSON(a.stdout, out); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.stdout, "%d passed, %d failed\n", out.Passed, out.Failed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("conform interrupted: %w", err)
	}
	if out.Failed > 0 && a.callTimeout != 0 {
		return fmt.Errorf("conform %s: %d of %d cases failed (each call's deadline: --call-timeout %v)", t.Name, out.Failed, len(cases), a.callTimeout)
	}
	if out.Failed > 0 {
		return fmt.Errorf("conform %s: %d of %d cases failed", t.Name, out.Failed, len(cases))
	}
	return nil
}
