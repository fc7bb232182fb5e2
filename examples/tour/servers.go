package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/dockyard/dockyard/internal/etcdtest"
)

// serverEtcd is driver.server for the drivers whose stores are on the tour's etcd cluster.
const serverEtcd = "etcd"

// etcdMembers is the size of the tour's etcd cluster: the smallest that survives losing one.
const etcdMembers = 3

// startEtcd starts the tour's etcd cluster (a variable, for the tests).
var startEtcd = func() (*etcdtest.Cluster, error) { return etcdtest.StartCluster(etcdMembers) }

// startServers starts the servers drivers need, an etcd cluster if any of them has server
// serverEtcd, and returns drivers with each such driver's DSNs and endpoints set, and a stop
// that removes what was started. Without the etcd server on this machine, the drivers that
// need it are left out, each with a notice.
func startServers(drivers []driver, out io.Writer) ([]driver, func(), error) {
	onEtcd := func(d driver) bool { return d.server == serverEtcd }
	if !slices.ContainsFunc(drivers, onEtcd) {
		return drivers, func() {}, nil
	}
	drivers = slices.Clone(drivers) // the caller's (defaultDrivers) stays as it is
	c, err := startEtcd()
	if errors.Is(err, etcdtest.ErrUnavailable) {
		for _, d := range drivers {
			if onEtcd(d) {
				fmt.Fprintf(out, "!! %s left out: no etcd server (bin/etcd or in PATH) to start a cluster of %d members (`make etcdtools` builds it)\n", d.name, etcdMembers)
			}
		}
		return slices.DeleteFunc(drivers, onEtcd), func() {}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("start an etcd cluster of %d members: %w", etcdMembers, err)
	}
	fmt.Fprintf(out, "etcd cluster of %d members: %s\n", c.Size(), strings.Join(c.Endpoints(), ","))
	for i, d := range drivers {
		if onEtcd(d) {
			// Key prefixes of their own, which do not nest: taskstore's store, and the one
			// under which conform makes its stores.
			store := c.DSN("tour-" + d.name)
			drivers[i].dsn = func(string) string { return store }
			drivers[i].conformDSN = c.DSN("tour-conform-" + d.name)
			drivers[i].connect = c.Endpoints()
		}
	}
	stop := func() {
		if err := c.Close(); err != nil {
			fmt.Fprintf(out, "!! %v\n", err)
		}
	}
	return drivers, stop, nil
}
