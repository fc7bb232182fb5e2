package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	_ "github.com/dockyard/dockyard/drivers/sqlite" // registers the "sqlite" driver
	"github.com/dockyard/dockyard/store"
)

func Example() {
	dir, err := os.MkdirTemp("", "dockyard-sqlite-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite", filepath.Join(dir, "dockyard.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.Put("tasks", "task/1", []byte("build")); err != nil {
			return err
		}
		return tx.Put("tasks", "task/2", []byte("ship"))
	})
	if err != nil {
		log.Fatal(err)
	}

	err = s.View(ctx, func(tx store.Tx) error {
		kvs, err := tx.Scan("tasks", "task/")
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			fmt.Printf("%s = %s\n", kv.Key, kv.Value)
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// task/1 = build
	// task/2 = ship
}
