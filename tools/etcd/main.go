// Command etcd is the etcd server, built from its Go module for the tests: internal/etcdtest
// starts its throwaway clusters from it. It is etcd's own entry point, nothing more; the module
// of this folder pins the server's version (go.mod), apart from the Dockyard module so that the
// server's dependencies never enter Dockyard's build. `make etcdtools` builds it to bin/etcd.
//
// Why not Debian's etcd-server package: it is etcd 3.4, whose transactions measured several
// times slower than a plain Put on the same cluster (about 1 ms against 0.2 ms on one member
// here), where 3.7's cost about what a Put does. The driver commits every Update as one
// transaction, so on 3.4 its benchmarks measured the server's transaction path, not the driver.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
