package artifact

import (
	"context"

	"github.com/dockyard/dockyard/store"
)

// readOnlyKey marks a context by WithReadOnly.
type readOnlyKey struct{}

// WithReadOnly returns ctx asking the transport's Open for a read-only driver, as
// store.OpenReadOnly's context does: package host uses it for the artifacts it opens itself
// (Manifest.OpenReadOnly, Prepared.OpenReadOnly), without the registry.
func WithReadOnly(ctx context.Context) context.Context {
	return context.WithValue(ctx, readOnlyKey{}, true)
}

// ReadOnly reports whether a transport's Open with ctx is to open a read-only driver: one
// whose guest is told so (HELLO_READONLY, abi.Hello.ReadOnly) and whose transport creates
// nothing (no data directory). It answers store.ReadOnlyOpen too, so a transport that asks
// has told store.OpenReadOnly that it knows the request.
func ReadOnly(ctx context.Context) bool {
	marked, _ := ctx.Value(readOnlyKey{}).(bool)
	return store.ReadOnlyOpen(ctx) || marked
}
