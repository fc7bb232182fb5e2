package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

var (
	registryMu sync.RWMutex
	registry   = map[string]Factory{}
)

// Register adds a driver factory under name. It is called from a driver package's init block.
// Registering the same name twice panics — a duplicate registration is a programming error,
// caught at process start. The panic value wraps ErrDuplicateDriver. A nil factory or an empty
// name panics too.
func Register(name string, factory Factory) {
	if name == "" {
		panic("store: Register with an empty driver name")
	}
	if factory == nil {
		panic(fmt.Sprintf("store: Register of driver %q with a nil factory", name))
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[name]; dup {
		panic(fmt.Errorf("%w: %q", ErrDuplicateDriver, name))
	}
	registry[name] = factory
}

// Drivers returns the names of all registered drivers, sorted.
func Drivers() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	names := make([]string, 0, len(registry))
	for name := range registry {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Open constructs a Store using the named driver. The driver package must be imported
// (typically a blank import) so its init block has registered the factory. Open returns
// ErrUnknownDriver if no such driver is registered.
//
// Open does not run migrations; the caller invokes Store.Migrate explicitly so migration timing
// is under application control.
func Open(ctx context.Context, driver, dsn string) (Store, error) {
	registryMu.RLock()
	factory, ok := registry[driver]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: %q (registered: %q)", ErrUnknownDriver, driver, Drivers())
	}
	s, err := factory(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", driver, err)
	}
	return s, nil
}
