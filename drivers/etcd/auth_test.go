package etcd_test

import (
	"context"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/dockyard/dockyard/drivers/etcd"
	"github.com/dockyard/dockyard/internal/etcdtest"
	"github.com/dockyard/dockyard/store"
)

// TestAuth opens a store on a cluster with authentication on: the DSN's user and password are
// used (a password with characters that need escaping), a wrong password and a missing one are
// refused with errors that say so and never show the password.
func TestAuth(t *testing.T) {
	c := etcdtest.NewCluster(t, 1)
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	const password = "s3cret/@:?"
	for _, step := range []func() error{
		func() error { _, err := cli.UserAdd(ctx, "root", password); return err },
		func() error { _, err := cli.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := cli.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			t.Fatalf("enable authentication: %v", err)
		}
	}
	dsn := etcd.DSN{Endpoints: c.Endpoints(), Username: "root", Password: password, Prefix: "auth"}
	s := openT(t, dsn.String())
	mustUpdate(t, s, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v")) })
	if v := get(t, s); v != "v" {
		t.Fatalf("k = %q", v)
	}

	wrong := dsn
	wrong.Password = "not-it"
	_, err = etcd.Open(t.Context(), wrong.String())
	if err == nil || !strings.Contains(err.Error(), "authentication failed") || strings.Contains(err.Error(), "not-it") {
		t.Fatalf("Open with a wrong password: %v", err)
	}
	none := dsn
	none.Username, none.Password = "", ""
	_, err = etcd.Open(t.Context(), none.String())
	if err == nil || !strings.Contains(err.Error(), "user name is empty") && !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("Open without a user on a cluster with authentication: %v", err)
	}
	t.Logf("no user: %v", err)
}
