// Command wasmonly is an application that opens stores on a compiled-in driver and on wasm
// drivers only: package artifact's test checks it links neither gRPC nor go-plugin.
package main

import (
	"context"
	"log"

	_ "github.com/dockyard/dockyard/drivers/sqlite"
	"github.com/dockyard/dockyard/host"
	_ "github.com/dockyard/dockyard/host/wasmhost"
	"github.com/dockyard/dockyard/store"
)

func main() {
	ctx := context.Background()
	if _, err := host.LoadEnv(ctx); err != nil {
		log.Print(err)
	}
	s, err := store.Open(ctx, "sqlite", "app.db")
	if err != nil {
		log.Fatal(err)
	}
	s.Close()
}
