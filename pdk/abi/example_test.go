package abi_test

import (
	"context"
	"fmt"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/store"
)

// inProcess is the smallest transport: it hands each request frame to a Dispatcher directly.
// A real transport moves the frames into a wasm module's memory or over a plugin's stream.
type inProcess struct{ guest *abi.Dispatcher }

func (p inProcess) RoundTrip(ctx context.Context, req []byte) ([]byte, error) {
	return p.guest.Handle(ctx, req, nil), nil
}

func ExampleNewClient() {
	ctx := context.Background()
	guest := abi.NewDispatcher(func(ctx context.Context, h abi.Hello) (pdk.Driver, error) {
		return inmem.NewDriver(), nil
	})
	d, err := abi.NewClient(ctx, inProcess{guest}, abi.Hello{})
	if err != nil {
		panic(err)
	}
	s := pdk.NewStore(d) // the seam's rules are enforced here, on the host
	defer s.Close()

	_ = s.Update(ctx, func(tx store.Tx) error {
		for _, k := range []string{"a", "b", "c"} {
			if err := tx.Put("letters", k, []byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
	_ = s.View(ctx, func(tx store.Tx) error {
		v, err := tx.Get("letters", "b")
		fmt.Printf("%s %v\n", v, err)
		return err
	})
	fmt.Println(d.Info().Name, d.(*abi.Client).Stats().RoundTrips, "crossings")
	// Output:
	// b <nil>
	// inmem 3 crossings
}
