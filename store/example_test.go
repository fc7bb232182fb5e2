package store_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	_ "github.com/dockyard/dockyard/drivers/inmem" // registers the "inmem" driver
	"github.com/dockyard/dockyard/store"
)

func ExampleOpen() {
	ctx := context.Background()
	s, err := store.Open(ctx, "inmem", "")
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	fmt.Println(s.Ping(ctx))

	_, err = store.Open(ctx, "no-such-driver", "")
	fmt.Println(errors.Is(err, store.ErrUnknownDriver))
	// Output:
	// <nil>
	// true
}

// OpenDSN opens a store named by one string, DRIVER:DSN: the form for a configuration file or
// an environment variable ($DOCKYARD_STORE for the dockyard CLI).
func ExampleOpenDSN() {
	ctx := context.Background()
	s, err := store.OpenDSN(ctx, "inmem:") // sqlite:./data/app.db, postgres:postgres://app@db/app, ...
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	fmt.Println(s.Ping(ctx))

	_, err = store.OpenDSN(ctx, "inmem") // no ':'
	fmt.Println(errors.Is(err, store.ErrInvalidDSN))
	_, err = store.OpenDSN(ctx, "no-such-driver:x")
	fmt.Println(errors.Is(err, store.ErrUnknownDriver))

	driver, dsn, _ := store.SplitDSN("postgres:postgres://app@db/app?dockyard_table=orders")
	fmt.Println(driver, dsn)
	// Output:
	// <nil>
	// true
	// true
	// postgres postgres://app@db/app?dockyard_table=orders
}

func ExampleStore_Update() {
	ctx := context.Background()
	s, _ := store.Open(ctx, "inmem", "")
	defer s.Close()

	// Both puts commit together, or neither does.
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.Put("users", "ada", []byte("Ada Lovelace")); err != nil {
			return err
		}
		return tx.Put("users", "alan", []byte("Alan Turing"))
	})
	fmt.Println(err)

	// A callback error rolls the transaction back and is returned as is.
	errNope := errors.New("changed my mind")
	err = s.Update(ctx, func(tx store.Tx) error {
		_ = tx.Put("users", "grace", []byte("Grace Hopper"))
		return errNope
	})
	fmt.Println(errors.Is(err, errNope))
	// Output:
	// <nil>
	// true
}

func ExampleStore_View() {
	ctx := context.Background()
	s, _ := store.Open(ctx, "inmem", "")
	defer s.Close()
	_ = s.Update(ctx, func(tx store.Tx) error {
		for _, k := range []string{"task/2", "task/1", "note/1"} {
			if err := tx.Put("app", k, []byte("v:"+k)); err != nil {
				return err
			}
		}
		return nil
	})

	_ = s.View(ctx, func(tx store.Tx) error {
		kvs, err := tx.Scan("app", "task/") // byte order, prefix "task/"
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			fmt.Printf("%s=%s\n", kv.Key, kv.Value)
		}
		_, err = tx.Get("app", "task/3")
		fmt.Println(errors.Is(err, store.ErrNotFound))
		fmt.Println(errors.Is(tx.Put("app", "x", nil), store.ErrReadOnly))
		return nil
	})
	// Output:
	// task/1=v:task/1
	// task/2=v:task/2
	// true
	// true
}

func ExampleStore_Migrate() {
	ctx := context.Background()
	s, _ := store.Open(ctx, "inmem", "")
	defer s.Close()

	set := store.NewMigrationSet().
		MustAdd(store.Migration{ID: "0001_init", Up: func(ctx context.Context, tx store.Tx) error {
			return tx.Put("meta", "schema", []byte("v1"))
		}}).
		MustAdd(store.Migration{ID: "0002_default_owner", Up: func(ctx context.Context, tx store.Tx) error {
			return tx.Put("meta", "owner", []byte("nobody"))
		}})
	fmt.Println(s.Migrate(ctx, set))
	fmt.Println(s.Migrate(ctx, set)) // idempotent: nothing left to apply

	// Dropping an applied migration is refused.
	removed := store.NewMigrationSet().MustAdd(store.Migration{ID: "0001_init", Up: func(context.Context, store.Tx) error { return nil }})
	fmt.Println(errors.Is(s.Migrate(ctx, removed), store.ErrMigrationOutOfOrder))
	// Output:
	// <nil>
	// <nil>
	// true
}

// ScanPage walks a prefix in pages, so a namespace too large to hold at once is read a page at
// a time: start after "", then after the last key of each page, until more is false.
func ExampleScanPage() {
	ctx := context.Background()
	s, err := store.Open(ctx, "inmem", "")
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	err = s.Update(ctx, func(tx store.Tx) error {
		for _, k := range []string{"user/1", "user/2", "user/3", "user/4", "user/5"} {
			if err := tx.Put("app", k, []byte("x")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	err = s.View(ctx, func(tx store.Tx) error {
		for after := ""; ; {
			page, more, err := store.ScanPage(tx, "app", "user/", after, 2)
			if err != nil {
				return err
			}
			for _, kv := range page {
				fmt.Print(kv.Key, " ")
			}
			fmt.Println("| more:", more)
			if !more {
				return nil
			}
			after = page[len(page)-1].Key
		}
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// user/1 user/2 | more: true
	// user/3 user/4 | more: true
	// user/5 | more: false
}

func ExampleIterate() {
	ctx := context.Background()
	s, _ := store.Open(ctx, "inmem", "")
	defer s.Close()
	_ = s.Update(ctx, func(tx store.Tx) error {
		for _, id := range []string{"2025-11-30", "2026-01-02", "2026-03-04", "2027-01-01"} {
			if err := tx.Put("orders", id, []byte("paid")); err != nil {
				return err
			}
		}
		return nil
	})
	// The orders of 2026, read a page at a time, however many there are.
	err := s.View(ctx, func(tx store.Tx) error {
		for kv, err := range store.Iterate(tx, "orders", "2026-", "") {
			if err != nil {
				return err
			}
			fmt.Println(kv.Key, string(kv.Value))
		}
		return nil
	})
	fmt.Println(err)
	// Output:
	// 2026-01-02 paid
	// 2026-03-04 paid
	// <nil>
}
