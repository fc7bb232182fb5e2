package main

import (
	"testing"

	"github.com/dockyard/dockyard/pdk"
)

// TestDSNFormDeclared: the CLI takes an in-process driver's DSN form from the driver's own
// declaration, not from a list of names it knows; artifacts and undeclared drivers get a
// directory.
func TestDSNFormDeclared(t *testing.T) {
	pdk.DeclareDSN("test-declared-server", pdk.DSNServer)
	for _, c := range []struct {
		name, transport string
		want            dsnForm
	}{
		{"test-declared-server", transportInProcess, dsnServer},
		{"sqlite", transportInProcess, dsnFile},
		{"inmem", transportInProcess, dsnEmpty},
		{"buntdb", transportInProcess, dsnDir},
		{"test-undeclared", transportInProcess, dsnDir},
		{"test-declared-server", transportWasm, dsnDir},
	} {
		if got := defaultDSNForm(c.name, c.transport); got != c.want {
			t.Errorf("defaultDSNForm(%q, %s) = %s, want %s", c.name, c.transport, got, c.want)
		}
	}
}
