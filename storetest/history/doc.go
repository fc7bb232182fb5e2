// Package history runs concurrent random transactions against a store.Store, records what each
// one was asked and what it answered, and checks the record against what the store promises:
// every committed Update and every View takes effect at one instant between its call and its
// return (strict serializability), nothing acknowledged is lost, and nothing reported as failed
// took effect.
//
// Three workloads check it from different sides, each in a few seconds:
//
//   - Registers: Views and Updates over a handful of keys, each write a value no other write
//     uses, checked by github.com/anishathalye/porcupine, a linearizability checker, against a
//     model in which a transaction is one step. A stale View, an Update seen half-applied, a
//     lost write and a failed Update that took effect all make the history impossible.
//   - ListAppend: Updates append a unique element to one of a few lists; Views read them all.
//     Every read of a list must be a prefix of every later one, hold only elements whose
//     append did not fail, and hold every append acknowledged before the read began.
//   - Bank: transfers between accounts while Views audit the total, which must never change.
//
// A fault harness runs the same workloads while Options.Fault breaks the store underneath
// (kills a plugin process, traps a guest, restarts a server, crashes and reopens a store). An
// Update that fails with store.ErrCommitUnknown is then indeterminate: the checks accept that it
// took effect or not. Any other error from an Update means it did not take effect, exactly as
// the store's rules say, and the checks hold the store to that.
//
// The storetest suite runs the three workloads on every driver and form; the transports' own
// tests run them under faults.
package history
