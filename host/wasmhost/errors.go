package wasmhost

import (
	"errors"
	"fmt"

	"github.com/dockyard/dockyard/pdk/abi"
)

var (
	// ErrDeadline is wrapped by the InstanceError of a call stopped at its deadline
	// (WithCallTimeout).
	ErrDeadline = errors.New("wasmhost: wasm call exceeded its deadline")

	// ErrMemoryLimit is wrapped by the InstanceError of a guest that died for want of memory
	// under its limit (WithMemoryLimit).
	ErrMemoryLimit = errors.New("wasmhost: wasm guest ran out of memory under its limit")

	// ErrBadResponse is wrapped by the InstanceError of a guest whose answer broke the wasm
	// binding: a buffer or response outside its memory, or a response over the size limit.
	ErrBadResponse = errors.New("wasmhost: wasm guest broke the binding")
)

// InstanceError reports a failure after which the guest instance was discarded: a trap, an
// exit, a deadline, a broken answer, or a failed instantiation. It wraps abi.ErrBroken (so the
// ABI client knows its session is gone and the next call reaches a fresh instance), the matching
// sentinel of this package if any, and the runtime's own error if any.
type InstanceError struct {
	// Module is the module's name.
	Module string
	// Reason says what happened, e.g. "guest trapped in dockyard_call: wasm error: unreachable".
	Reason string
	// Kind is ErrDeadline, ErrMemoryLimit, ErrBadResponse or nil.
	Kind error
	// Err is the runtime's error (a trap, a *sys.ExitError), or nil.
	Err error
}

func (e *InstanceError) Error() string {
	return fmt.Sprintf("wasm module %q: %s", e.Module, e.Reason)
}

// Unwrap returns abi.ErrBroken, Kind and Err, those that are set.
func (e *InstanceError) Unwrap() []error {
	errs := []error{abi.ErrBroken}
	for _, err := range []error{e.Kind, e.Err} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
