package pdk

import "sync"

// DSNForm says what a driver's DSN names, so that a tool can make a fresh store of any driver
// without knowing it by name: the dockyard CLI's conform makes a throwaway DSN of the form for
// every case. A driver declares its form with DeclareDSN beside store.Register.
type DSNForm string

// The DSN forms.
const (
	// DSNEmpty: the DSN is ignored; "" will do (an in-memory driver).
	DSNEmpty DSNForm = "empty"
	// DSNFile: a file's path; its directory must exist (sqlite).
	DSNFile DSNForm = "file"
	// DSNDir: an existing directory's path, which the driver keeps its files in (buntdb, and
	// every wasm and plugin artifact, whose host mounts or confines a directory).
	DSNDir DSNForm = "dir"
	// DSNServer: a server's address or URL; a fresh store there is the driver's own business
	// (postgres: a table per store).
	DSNServer DSNForm = "server"
)

var (
	dsnMu    sync.RWMutex
	dsnForms = map[string]DSNForm{}
)

// DeclareDSN records the DSN form of the driver registered in package store as name. A later
// declaration for the same name replaces the earlier one.
func DeclareDSN(name string, form DSNForm) {
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
