package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dockyard/dockyard/pdk"
)

// dsnForm is the kind of DSN a driver takes, which decides how the CLI makes a throwaway one
// (for conform, manifest write's handshake, and to read a driver's capabilities in drivers)
// and what a read command checks exists before it opens a store.
type dsnForm = pdk.DSNForm

const (
	dsnEmpty  = pdk.DSNEmpty  // the DSN is ignored: ""
	dsnFile   = pdk.DSNFile   // a file path inside a fresh directory
	dsnDir    = pdk.DSNDir    // a fresh, existing directory
	dsnServer = pdk.DSNServer // a server: no throwaway DSN can be made in general
)

// formOf is the DSN form the CLI takes for a driver, and whether the driver declared it: an
// in-process driver's declaration (pdk.DeclareDSN), an artifact's manifest's dsn_form
// (manifest, "" if it has none), else a directory, guessed (the transports' default).
// conform --dsn-form overrides it.
func formOf(name, transport string, manifest pdk.DSNForm) (dsnForm, bool) {
	if transport == transportInProcess {
		if f, ok := pdk.DSNOf(name); ok {
			return f, true
		}
	} else if manifest != "" {
		return manifest, true
	}
	return dsnDir, false
}

// parseDSNForm parses a --dsn-form value; "auto" (or "") is def.
func parseDSNForm(s string, def dsnForm) (dsnForm, error) {
	if s == "" || s == "auto" {
		return def, nil
	}
	f, err := pdk.ParseDSNForm(s)
	if err != nil {
		return "", usagef("--dsn-form %q: want auto, empty, file, dir or server", s)
	}
	return f, nil
}

// throwawayDSN makes a fresh DSN of form f inside dir (which exists and is fresh).
func throwawayDSN(f dsnForm, dir string) (string, error) {
	switch f {
	case dsnEmpty:
		return "", nil
	case dsnFile:
		return filepath.Join(dir, "store.db"), nil
	case dsnDir:
		d := filepath.Join(dir, "data")
		if err := os.Mkdir(d, 0o700); err != nil {
			return "", fmt.Errorf("make a data directory: %w", err)
		}
		return d, nil
	}
	return "", fmt.Errorf("no throwaway DSN can be made for a driver whose DSN names a %s", f)
}

// dsnMaker makes the DSN of a new, empty store, and a function that removes it.
type dsnMaker func() (dsn string, remove func(), err error)

// dirDSNs makes DSNs of form, each inside a fresh directory under parent ("" for the system's
// temporary directory).
func dirDSNs(form dsnForm, parent string) dsnMaker {
	return func() (string, func(), error) {
		dir, err := os.MkdirTemp(parent, "dockyard-store-")
		if err != nil {
			return "", nil, fmt.Errorf("make a directory for a store: %w", err)
		}
		remove := func() { _ = os.RemoveAll(dir) }
		dsn, err := throwawayDSN(form, dir)
		if err != nil {
			remove()
			return "", nil, err
		}
		return dsn, remove, nil
	}
}

// checkExists checks the file or directory a DSN of t's form names exists. A URL DSN given to
// a driver whose form is a guess (an artifact) names a server, not a path: nothing to check.
func checkExists(t *target, dsn string) error {
	if strings.Contains(dsn, "://") && !t.declaresForm() {
		return nil
	}
	var want string
	switch t.form {
	case dsnFile:
		want = "file"
	case dsnDir:
		want = "directory"
	default:
		return nil
	}
	if dsn == "" {
		return usagef("--dsn is required: the %s store's %s", t.Name, want)
	}
	fi, err := os.Stat(dsn)
	switch {
	case err != nil:
		return fmt.Errorf("no %s store at %s (%w): a command that only reads never creates one", t.Name, dsn, err)
	case (want == "directory") != fi.IsDir():
		return fmt.Errorf("no %s store at %s: it is not a %s", t.Name, dsn, want)
	}
	return nil
}
