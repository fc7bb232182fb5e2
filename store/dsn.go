package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidDSN is returned by SplitDSN and OpenDSN for a string that is not DRIVER:DSN: one
// without a ':', or with nothing before it.
var ErrInvalidDSN = errors.New("store: malformed DRIVER:DSN")

// SplitDSN splits a store named by one string, DRIVER:DSN, into the driver's name and the DSN
// given to it: the driver is everything before the first ':', the DSN everything after it,
// byte for byte (nothing is trimmed or unescaped). The DSN may be empty ("inmem:") and may
// hold more colons: a URL keeps its own scheme ("postgres:postgres://app@db/app"), a Windows
// path its volume ("sqlite:C:\data\app.db"). A driver whose name holds a ':' cannot be named
// this way; store.Open still opens it.
//
// A string without a ':', or with nothing before it, is an error wrapping ErrInvalidDSN that
// names the string and the form.
func SplitDSN(driverDSN string) (driver, dsn string, err error) {
	driver, dsn, ok := strings.Cut(driverDSN, ":")
	switch {
	case driverDSN == "":
		return "", "", fmt.Errorf("%w: the string is empty (want e.g. %q or %q)", ErrInvalidDSN, "sqlite:./data/app.db", "inmem:")
	case !ok:
		return "", "", fmt.Errorf("%w: %q has no ':' (want e.g. %q; with an empty DSN, %q)", ErrInvalidDSN, driverDSN, "sqlite:./data/app.db", driverDSN+":")
	case driver == "":
		return "", "", fmt.Errorf("%w: %q names no driver before its ':' (want e.g. %q)", ErrInvalidDSN, driverDSN, "sqlite:./data/app.db")
	}
	return driver, dsn, nil
}

// OpenDSN opens the store that one string names, DRIVER:DSN (see SplitDSN), as Open(ctx,
// DRIVER, DSN) does: store.OpenDSN(ctx, "sqlite:./data/app.db") is store.Open(ctx, "sqlite",
// "./data/app.db"). It is the form to keep in a configuration file or an environment variable
// (the dockyard CLI reads $DOCKYARD_STORE so), since one value says both which driver and
// which store. Each driver's package documentation gives the form of its DSN.
//
// A malformed string is an error wrapping ErrInvalidDSN; a driver that is not registered is
// ErrUnknownDriver, as for Open; the driver's own error is wrapped otherwise.
func OpenDSN(ctx context.Context, driverDSN string) (Store, error) {
	driver, dsn, err := SplitDSN(driverDSN)
	if err != nil {
		return nil, err
	}
	s, err := Open(ctx, driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("%w%s", err, dsnHint(driver, dsn, err))
	}
	return s, nil
}

// dsnHint says, after a failed OpenDSN, what a string that looks mistyped should have been.
func dsnHint(driver, dsn string, err error) string {
	switch {
	case errors.Is(err, ErrUnknownDriver) && len(driver) == 1 && (strings.HasPrefix(dsn, `\`) || strings.HasPrefix(dsn, "/")):
		return fmt.Sprintf(" (%q looks like a Windows path: name its driver first, e.g. %q)", driver+":"+dsn, "sqlite:"+driver+":"+dsn)
	case errors.Is(err, ErrUnknownDriver):
		return ""
	case strings.HasPrefix(dsn, "//"):
		return fmt.Sprintf(" (the DSN given to %s was %q: DRIVER:DSN passes everything after the first ':'; a URL keeps its scheme, e.g. %q)", driver, dsn, driver+":"+driver+":"+dsn)
	}
	return ""
}
