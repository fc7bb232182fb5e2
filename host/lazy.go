package host

import (
	"context"
	"sync"

	"github.com/dockyard/dockyard/host/artifact"
	"github.com/dockyard/dockyard/store"
)

// onFirstOpen is the factory of a driver loaded with CompileOnOpen: its artifact was verified
// when it was loaded (manifest, sha256, transport) and is prepared (a wasm module compiled)
// by the first store.Open, so that a program that loads many drivers and opens one pays for
// one. The bytes that were hashed are kept and compiled, never read again.
type onFirstOpen struct {
	t    artifact.Transport
	a    *artifact.Artifact
	m    *Manifest
	path string // the manifest's path, for errors

	mu sync.Mutex // held through the prepare: concurrent first opens compile once
	p  *Prepared
}

// Open prepares the artifact unless an earlier Open did, and opens a store on it. A prepare
// that fails (a module that does not compile) is an error of this Open, a *ManifestError for
// the artifact as LoadDir's would have been; the next Open tries again, since a canceled
// context or a lack of memory may have been the cause.
func (o *onFirstOpen) Open(ctx context.Context, dsn string) (store.Store, error) {
	o.mu.Lock()
	if o.p == nil {
		tp, err := o.t.Prepare(ctx, o.a)
		if err != nil {
			o.mu.Unlock()
			return nil, o.m.openErr(&ManifestError{Path: o.path, Field: "artifact", Err: err})
		}
		o.p = &Prepared{Manifest: o.m, p: tp}
		o.a.Logger.Debug("driver prepared", "driver", o.m.Name, "transport", o.m.Transport)
	}
	p := o.p
	o.mu.Unlock()
	return p.Open(ctx, dsn)
}
