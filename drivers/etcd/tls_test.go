package etcd_test

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/drivers/etcd"
	"github.com/dockyard/dockyard/internal/etcdtest"
	"github.com/dockyard/dockyard/storetest"
)

// TestTLS runs the suite on a cluster that serves its clients over TLS only and requires a
// client certificate, with the DSN's tls_ca, tls_cert and tls_key; and checks a client without
// TLS, without its certificate, or with files that are missing or wrong is refused with an
// error naming what was wrong.
func TestTLS(t *testing.T) {
	c := etcdtest.NewTLSCluster(t, 1)
	f := c.TLS()
	with := func(params map[string]string) string {
		d := etcd.DSN{Endpoints: c.Endpoints(), Prefix: "tls", Params: url.Values{}}
		for k, v := range params {
			d.Params.Set(k, v)
		}
		d.Params.Set("dial_timeout", "2s")
		return d.String()
	}
	dsn := with(map[string]string{"tls_ca": f.CA, "tls_cert": f.ClientCert, "tls_key": f.ClientKey})
	storetest.Run(t, harness(dsn))

	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		params map[string]string
		want   string
	}{
		{"no TLS", nil, "over plain TCP"},
		{"no client certificate", map[string]string{"tls_ca": f.CA}, "tls_cert and tls_key"},
		{"a certificate without its key", map[string]string{"tls_ca": f.CA, "tls_cert": f.ClientCert}, "give both or neither"},
		{"a missing CA file", map[string]string{"tls_ca": filepath.Join(t.TempDir(), "nope.pem")}, "option tls_ca"},
		{"a CA file without a certificate", map[string]string{"tls_ca": notPEM}, "no PEM certificate"},
		{"a key that is not one", map[string]string{"tls_ca": f.CA, "tls_cert": f.ClientCert, "tls_key": notPEM}, "tls_key"},
	} {
		_, err := etcd.Open(t.Context(), with(tc.params))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Open = %v, want an error containing %q", tc.name, err, tc.want)
		} else {
			t.Logf("%s: %v", tc.name, err)
		}
	}
}
