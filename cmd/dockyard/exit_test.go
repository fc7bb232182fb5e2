package main

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/pdk/abi"
)

func TestExitCodes(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	mustRun(t, exitOK, "", "put", "--driver", "sqlite", "--dsn", db, "ns", "k", "v")
	for _, c := range []struct {
		name   string
		args   []string
		want   int
		stderr string // a substring of stderr
	}{
		{"no command", nil, exitUsage, "no command given"},
		{"unknown command", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"unknown flag", []string{"get", "--bogus", "ns", "k"}, exitUsage, "unknown flag: --bogus"},
		{"bad flag value", []string{"scan", "--driver", "inmem", "--limit", "many", "ns"}, exitUsage, "invalid argument"},
		{"too few arguments", []string{"get", "--driver", "inmem", "ns"}, exitUsage, "accepts 2 arg(s)"},
		{"too many arguments", []string{"namespaces", "--driver", "inmem", "extra"}, exitUsage, "unknown command"},
		{"missing --driver", []string{"get", "ns", "k"}, exitUsage, "--driver is required"},
		{"bad hex key", []string{"get", "--driver", "inmem", "--hex-keys", "zz", "k"}, exitUsage, `key "k" is not hex (--hex-keys)`},
		{"bad hex namespace", []string{"get", "--driver", "inmem", "--hex-ns", "zz", "6b"}, exitUsage, `namespace "zz" is not hex (--hex-ns)`},
		{"bad --run", []string{"conform", "--run", "(", "inmem"}, exitUsage, "--run"},
		{"--run selects nothing", []string{"conform", "--run", "NoSuchCase", "inmem"}, exitUsage, "selects no case"},
		{"conform without driver", []string{"conform"}, exitUsage, "needs one driver"},
		{"copy without colon", []string{"copy", "--from", "sqlite", "--to", "inmem:"}, exitUsage, "DRIVER:DSN"},
		{"copy onto itself", []string{"copy", "--from", "inmem:", "--to", "inmem:"}, exitUsage, "same store"},
		{"bench ops and duration", []string{"bench", "--driver", "inmem", "--ops", "5", "--duration", "1s"}, exitUsage, "not both"},
		{"put to a reserved namespace", []string{"put", "--driver", "inmem", "--hex-ns", "00646f636b796172642f6d6967726174696f6e73", "6b", "v"}, exitUsage, "reserved"},
		{"missing driver", []string{"get", "--driver", "nosuchdriver", "ns", "k"}, exitUsage, "unknown driver"},
		{"read without --dsn", []string{"get", "--driver", "sqlite", "ns", "k"}, exitUsage, "--dsn is required"},
		{"missing artifact", []string{"conform", "./nosuch.wasm"}, exitFailed, "no such file"},
		{"not found", []string{"get", "--driver", "sqlite", "--dsn", db, "ns", "absent"}, exitFailed, "not found"},
		{"no such store", []string{"get", "--driver", "sqlite", "--dsn", filepath.Join(t.TempDir(), "no", "dir", "s.db"), "ns", "k"}, exitFailed, "no sqlite store at"},
		{"store fails to open", []string{"put", "--driver", "sqlite", "--dsn", filepath.Join(t.TempDir(), "no", "dir", "s.db"), "ns", "k", "v"}, exitFailed, "open sqlite store"},
		{"ok", []string{"put", "--driver", "sqlite", "--dsn", db, "ns", "k", "v"}, exitOK, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := dockyard(t, "", c.args...)
			if r.code != c.want {
				t.Fatalf("dockyard %q: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", c.args, r.code, c.want, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, c.stderr) {
				t.Errorf("dockyard %q: stderr %q does not say %q", c.args, r.stderr, c.stderr)
			}
			if c.want == exitUsage && !strings.Contains(r.stderr, "--help' for usage") {
				t.Errorf("dockyard %q: a usage error without the hint to --help: %q", c.args, r.stderr)
			}
			if c.want == exitOK && r.stderr != "" {
				t.Errorf("dockyard %q: stderr %q, want nothing", c.args, r.stderr)
			}
		})
	}
}

func TestHelpEverywhere(t *testing.T) {
	for _, cmd := range []string{"", "drivers", "conform", "get", "put", "delete", "scan", "namespaces", "migrations", "copy", "bench"} {
		args := []string{"--help"}
		if cmd != "" {
			args = []string{cmd, "--help"}
		}
		r := mustRun(t, exitOK, "", args...)
		if !strings.Contains(r.stdout, "Usage:") || !strings.Contains(r.stdout, "Exit codes") {
			t.Errorf("dockyard %q: help without usage or exit codes:\n%s", args, r.stdout)
		}
	}
}

// TestVersion: --version prints the build's version, Go version and ABI, and exits 0.
func TestVersion(t *testing.T) {
	r := mustRun(t, exitOK, "", "--version")
	for _, want := range []string{"dockyard version ", runtime.Version(), fmt.Sprintf("ABI %d.%d", abi.Major, abi.Minor)} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--version printed %q, want it to say %q", r.stdout, want)
		}
	}
}
