package etcd_test

import (
	"context"
	"fmt"
	"log"

	"github.com/dockyard/dockyard/drivers/etcd"
	"github.com/dockyard/dockyard/store"
)

// A store is a key prefix of a cluster; the DSN names every member, so the client moves on
// when one is lost. (Not run: it needs a cluster.)
func ExampleOpen() {
	ctx := context.Background()
	s, err := store.Open(ctx, "etcd", "etcd://10.0.0.1:2379,10.0.0.2:2379,10.0.0.3:2379/orders?lock_ttl=5s")
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.Put("orders", "o-1", []byte("paid"))
	})
	if err != nil {
		log.Fatal(err)
	}
}

// A tool making a store of its own under a user's DSN parses it, changes the prefix and
// formats it again.
func ExampleParseDSN() {
	d, err := etcd.ParseDSN("etcd://app:secret@10.0.0.1:2379,10.0.0.2:2379/apps?lock_ttl=5s")
	if err != nil {
		log.Fatal(err)
	}
	d.Prefix += "/scratch"
	fmt.Println(d.Endpoints, d.Prefix)
	fmt.Println(d.Redacted())
	// Output:
	// [10.0.0.1:2379 10.0.0.2:2379] apps/scratch
	// etcd://app:xxxxx@10.0.0.1:2379,10.0.0.2:2379/apps/scratch?lock_ttl=5s
}
