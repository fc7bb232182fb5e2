// Package storetest is the conformance suite every store.Store driver passes, in every form it
// ships in (in-process, WebAssembly module, plugin process).
//
// It follows gocloud.dev's drivertest: a driver's test supplies a Harness that opens fresh
// stores and declares the driver's capabilities, and Run runs every named case against it as a
// subtest. The cases are functions of the small T interface, not of *testing.T, so the
// dockyard conform command runs the very same cases outside go test. A capability the harness
// does not declare is checked to be absent, so a harness cannot understate what a driver does
// any more than it can overstate it.
//
// storetest imports package store only (and its own package history, which does too): it proves
// the seam, whatever is behind it.
package storetest

import (
	"context"
	"testing"

	"github.com/dockyard/dockyard/store"
)

// T is the part of *testing.T the cases use. Cases call Fatalf only from the goroutine running
// the case; goroutines they start report with Errorf.
type T interface {
	Helper()
	Name() string
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
	TempDir() string
}

// Harness is what a driver's test supplies.
type Harness struct {
	// Open returns a new, empty store, distinct from every other store it returned. The suite
	// closes the stores it opens. Required.
	Open func(ctx context.Context, t T) (store.Store, error)

	// Reopen, for a durable driver, returns a store reading the same data as s after s has been
	// closed. Nil means the driver is not durable.
	Reopen func(ctx context.Context, t T, s store.Store) (store.Store, error)

	// Caps declares what the driver does.
	Caps Capabilities
}

// Capabilities a harness declares. The suite checks each declared one holds, and each one not
// declared is absent.
type Capabilities struct {
	// Durable: committed data survives Close and Reopen. Requires Harness.Reopen.
	Durable bool
	// ConcurrentReaders: a View runs to completion while an Update is open, without waiting.
	// If false, a View waits for the open Update to end.
	ConcurrentReaders bool
}

// Case is one named conformance check.
type Case struct {
	Name string
	Run  func(t T, h Harness)
}

// Cases returns every case of the suite, in a stable order.
func Cases() []Case {
	var all []Case
	for _, group := range [][]Case{
		lifecycleCases, keyCases, scanCases, valueCases,
		txnCases, concurrencyCases, historyCases, migrationCases, capabilityCases,
	} {
		all = append(all, group...)
	}
	return all
}

// Run runs every case against h, each as a subtest of t.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Open == nil {
		t.Fatal("storetest: Harness.Open is nil")
	}
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) { c.Run(t, h) })
	}
}
