package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// app is one invocation of the CLI: its streams, global flags and loaded drivers.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	logger         *slog.Logger

	// Global flags.
	driverDirs []string
	verbose    bool
	progress   bool
	progressOK bool // --progress was given explicitly (its value then wins over the terminal test)

	// callTimeout is conform --call-timeout: the per-call deadline of the transport of the
	// manifest or artifact checked (0: the manifest's, or the transport's default).
	callTimeout time.Duration

	loadOnce sync.Once
	loadErrs []error // driver directories that failed to load, each naming the directory
}

// run is the whole CLI: it parses args, runs the command and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	a.logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	return a.exitCode(cmd, err)
}

// exitCode prints err, if any, and maps it to the process exit code.
func (a *app) exitCode(cmd *cobra.Command, err error) int {
	if err == nil {
		return exitOK
	}
	var op *opError
	if errors.As(err, &op) {
		fmt.Fprintf(a.stderr, "dockyard: %v\n", err)
		return exitFailed
	}
	// A usageError of ours, or an error cobra raised itself while parsing the command line.
	fmt.Fprintf(a.stderr, "dockyard: %v\n", err)
	path := "dockyard"
	if cmd != nil {
		path = cmd.CommandPath()
	}
	fmt.Fprintf(a.stderr, "Run '%s --help' for usage.\n", path)
	return exitUsage
}

// action adapts a command's function to cobra: every error it returns that is not a usage
// error is an operation failure (exit code 1).
func (a *app) action(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := fn(cmd, args)
		if err == nil {
			return nil
		}
		var u *usageError
		if errors.As(err, &u) {
			return err
		}
		return &opError{err: err}
	}
}

// args wraps a cobra argument validator so that its complaint is a usage error.
func args(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := v(cmd, a); err != nil {
			return &usageError{err: err}
		}
		return nil
	}
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "dockyard",
		Short: "Inspect, check, copy and benchmark Dockyard stores and drivers",
		Long: `dockyard works with Dockyard stores through any driver: compiled in (inmem, sqlite,
buntdb, postgres, etcd), or loaded from driver directories (a manifest beside a .wasm module or a
plugin binary) named by the environment variable DOCKYARD_DRIVERS (a path list) and by
--drivers.

A store is named by its driver and DSN, --driver NAME --dsn DSN, or as one string,
--store DRIVER:DSN (split at the first ':', as an application's store.OpenDSN splits it:
sqlite:./data/app.db, inmem:, postgres:postgres://app@db/app, etcd:etcd://h1:2379,h2:2379/app);
copy takes its two stores in that form. Each driver's DSN form is in its package's
documentation and in the README; dockyard drivers shows it.

Environment:
  DOCKYARD_DRIVERS  drivers directories to load, a path list (as PATH)
  DOCKYARD_STORE    the store, DRIVER:DSN, of a command on one store (get, put, delete,
                    scan, namespaces, migrations, bench) given neither --driver nor --store

Exit codes: 0 success; 1 the operation failed (an error, a key not found, a failed
conformance case, a copy that does not verify); 2 a usage error (unknown command, bad flag,
wrong arguments, an unknown driver, a read command without its --dsn, a malformed
DRIVER:DSN).`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       version(),
		// Without a command, print the help and fail as a usage error.
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			cmd.SetOut(a.stderr)
			_ = cmd.Help()
			return usagef("no command given")
		},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			a.progressOK = cmd.Flags().Changed("progress")
			if a.verbose {
				a.logger = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
			}
			return nil
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err: err} })
	pf := root.PersistentFlags()
	pf.StringArrayVar(&a.driverDirs, "drivers", nil, "also load the drivers in `DIR` (repeatable; besides $DOCKYARD_DRIVERS)")
	pf.BoolVarP(&a.verbose, "verbose", "v", false, "log what happens (driver loading, guest logs) to stderr")
	pf.BoolVar(&a.progress, "progress", false, "show progress bars on stderr (default: only when stderr is a terminal)")

	root.AddCommand(
		a.driversCommand(),
		a.conformCommand(),
		a.manifestCommand(),
		a.getCommand(),
		a.putCommand(),
		a.deleteCommand(),
		a.scanCommand(),
		a.namespacesCommand(),
		a.migrationsCommand(),
		a.copyCommand(),
		a.benchCommand(),
	)
	root.CompletionOptions.HiddenDefaultCmd = true
	return root
}

// progressOn reports whether progress bars are drawn: as --progress says if it was given,
// else only when stderr is a terminal, so pipes and tests stay clean.
func (a *app) progressOn() bool {
	if a.progressOK {
		return a.progress
	}
	f, ok := a.stderr.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// version is the CLI's version, from the build information Go records: the module version
// for `go install …@vX`, else the VCS revision (and "+dirty" for uncommitted changes), with
// the Go version and the ABI this build speaks.
func version() string {
	v, rev, dirty := "(devel)", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if rev != "" && v == "(devel)" {
		v = rev[:min(12, len(rev))]
		if dirty {
			v += "+dirty"
		}
	}
	return fmt.Sprintf("%s (%s, ABI %d.%d)", v, runtime.Version(), abi.Major, abi.Minor)
}
