package store

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
)

// ErrNoStore is returned by OpenReadOnly when there is no store where the DSN points (a
// missing file or directory, a database without the store's table, an empty key prefix):
// a read-only open never creates one.
var ErrNoStore = errors.New("store: no store there")

// ErrReadOnlyUnsupported is returned by OpenReadOnly for a driver that cannot open a store
// read-only (its factory never asked ReadOnlyOpen).
var ErrReadOnlyUnsupported = errors.New("store: the driver cannot open a store read-only")

// readOnlyKey marks the context a factory is called with by OpenReadOnly.
type readOnlyKey struct{}

// readOnlyAsk records that the factory asked.
type readOnlyAsk struct{ asked atomic.Bool }

// OpenReadOnly opens, as Open does, a store that must exist already, and never creates or
// changes anything: no file, table or key is made, and no schema is recorded. A missing store
// is an error wrapping ErrNoStore. On the store it returns, View works as ever, Update fails
// with an error wrapping ErrReadOnly, and Migrate succeeds only if every migration of the set
// is applied already (it reads; a pending one fails with ErrReadOnly).
//
// It is the open for tools and programs that only look (a CLI's get and scan, a report, a
// backup), so that a typo in a DSN is an error instead of a new, empty store. Whether others
// may write the same store meanwhile is the driver's business, as for any View.
//
// A driver's factory learns of the request from ReadOnlyOpen(ctx). A factory that never asks
// does not know the request, so the store it returned is closed and the error wraps
// ErrReadOnlyUnsupported (it may have created the store before that: every driver of this
// module asks).
func OpenReadOnly(ctx context.Context, driver, dsn string) (Store, error) {
	ask := &readOnlyAsk{}
	s, err := Open(context.WithValue(ctx, readOnlyKey{}, ask), driver, dsn)
	if err != nil {
		return nil, err
	}
	if !ask.asked.Load() {
		s.Close()
		return nil, fmt.Errorf("%w: %s", ErrReadOnlyUnsupported, driver)
	}
	return s, nil
}

// OpenDSNReadOnly is OpenReadOnly for a store named by one string, DRIVER:DSN, as OpenDSN is
// Open's.
func OpenDSNReadOnly(ctx context.Context, driverDSN string) (Store, error) {
	driver, dsn, err := SplitDSN(driverDSN)
	if err != nil {
		return nil, err
	}
	s, err := OpenReadOnly(ctx, driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("%w%s", err, dsnHint(driver, dsn, err))
	}
	return s, nil
}

// ReadOnlyOpen reports whether a factory called with ctx is asked to open its store
// read-only (by OpenReadOnly). A driver that supports read-only opens calls it in its factory
// and, when it reports true, opens without creating or changing anything, fails with an error
// wrapping ErrNoStore when there is no store, and returns a store whose Update fails with
// ErrReadOnly (pdk.NewStore does that with pdk.WithReadOnly). Asking is what tells OpenReadOnly
// that the driver knows the request.
func ReadOnlyOpen(ctx context.Context) bool {
	ask, ok := ctx.Value(readOnlyKey{}).(*readOnlyAsk)
	if !ok {
		return false
	}
	ask.asked.Store(true)
	return true
}
