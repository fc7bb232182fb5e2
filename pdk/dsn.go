package pdk

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// DSNForm says what a driver's DSN names, so that a tool can make a fresh store of any driver
// without knowing it by name: the dockyard CLI's conform makes a throwaway DSN of the form for
// every case. A driver declares its form with DeclareDSN beside store.Register; a driver
// artifact's manifest declares it in its "dsn_form" field, which host.LoadDir passes to
// DeclareDSN.
type DSNForm string

// The DSN forms.
const (
	// DSNEmpty: the DSN is ignored; "" will do (an in-memory driver).
	DSNEmpty DSNForm = "empty"
	// DSNFile: a file's path; the file is created if missing, its directory must exist
	// (sqlite).
	DSNFile DSNForm = "file"
	// DSNDir: a directory's path, which the driver keeps its files in (buntdb, which wants it
	// to exist; a wasm artifact, whose host creates it and mounts it; a plugin artifact, whose
	// host confines the plugin to it).
	DSNDir DSNForm = "dir"
	// DSNServer: a server's address or URL; a fresh store there is the driver's own business
	// (postgres: a table per store; etcd: a key prefix per store).
	DSNServer DSNForm = "server"
)

// allForms are the DSN forms, in the order of their constants.
var allForms = [...]DSNForm{DSNEmpty, DSNFile, DSNDir, DSNServer}

// ParseDSNForm returns the DSN form s names: "empty", "file", "dir" or "server", exactly (in
// lower case). Anything else is an error naming s and the forms.
func ParseDSNForm(s string) (DSNForm, error) {
	for _, f := range allForms {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown DSN form %q (want %q, %q, %q or %q)", s, DSNEmpty, DSNFile, DSNDir, DSNServer)
}

var (
	dsnMu    sync.RWMutex
	dsnForms = map[string]DSNForm{}
)

// DeclareDSN records the DSN form of the driver registered in package store as name. A later
// declaration for the same name replaces the earlier one. A form that ParseDSNForm refuses
// panics, as a mistaken store.Register does: it is a programming error, found at start-up.
func DeclareDSN(name string, form DSNForm) {
	if _, err := ParseDSNForm(string(form)); err != nil {
		panic(fmt.Sprintf("pdk: DeclareDSN(%q): %v", name, err))
	}
	dsnMu.Lock()
	defer dsnMu.Unlock()
	dsnForms[name] = form
}

// DSNOf returns the DSN form declared for the driver registered as name, if one was.
func DSNOf(name string) (DSNForm, bool) {
	dsnMu.RLock()
	defer dsnMu.RUnlock()
	f, ok := dsnForms[name]
	return f, ok
}

// RedactDSN returns dsn with its password replaced by "xxxxx", for error messages and logs: in
// the URL form, scheme://[user[:password]@]host..., the user information's password; in the
// key=value form of PostgreSQL's connection strings, the value of password=; a string with an
// '@' but no scheme has everything before the '@' masked. Drivers, and tools that show a
// user's DSN, call it for every message that shows one, whatever else is wrong with it.
func RedactDSN(dsn string) string {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok && keyValuePassword.MatchString(dsn) {
		return keyValuePassword.ReplaceAllString(dsn, "${1}password=xxxxx")
	}
	if !ok {
		if i := strings.Index(dsn, "@"); i >= 0 {
			return "xxxxx" + dsn[i:]
		}
		return dsn
	}
	hosts, _, _ := strings.Cut(rest, "/")
	i := strings.LastIndex(hosts, "@")
	if i < 0 {
		return dsn
	}
	user, _, hasPass := strings.Cut(hosts[:i], ":")
	if !hasPass {
		return dsn
	}
	return scheme + "://" + user + ":xxxxx" + rest[i:]
}

// keyValuePassword matches password=VALUE in a key=value connection string, VALUE bare or
// single-quoted (with backslash escapes), as libpq reads it.
var keyValuePassword = regexp.MustCompile(`(^|\s)password\s*=\s*('(?:\\.|[^'\\])*'|\S+)`)
