package main

// The drivers compiled into the CLI; each registers itself with package store in its init.
import (
	_ "github.com/dockyard/dockyard/drivers/buntdb"
	_ "github.com/dockyard/dockyard/drivers/etcd"
	_ "github.com/dockyard/dockyard/drivers/inmem"
	_ "github.com/dockyard/dockyard/drivers/postgres"
	_ "github.com/dockyard/dockyard/drivers/sqlite"
)
