package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/store"
)

// TestSplitDSN: the driver is everything before the first ':', the DSN everything after it,
// byte for byte; a string that is not DRIVER:DSN is ErrInvalidDSN, naming it and the form.
func TestSplitDSN(t *testing.T) {
	for _, c := range []struct{ in, driver, dsn string }{
		{"sqlite:./a.db", "sqlite", "./a.db"},
		{"inmem:", "inmem", ""},
		{"postgres:postgres://u:p@host:5432/db?x=y", "postgres", "postgres://u:p@host:5432/db?x=y"},
		{"postgres:host=db user=app dockyard_table=t", "postgres", "host=db user=app dockyard_table=t"},
		{"etcd:etcd://u:p@127.0.0.1:2379,127.0.0.1:2380/a/b?lock_ttl=2s", "etcd", "etcd://u:p@127.0.0.1:2379,127.0.0.1:2380/a/b?lock_ttl=2s"},
		{`sqlite:C:\data\a.db`, "sqlite", `C:\data\a.db`},
		{"sqlite: spaced name.db ", "sqlite", " spaced name.db "},
		{"./drivers/kv.json:/var/lib/kv", "./drivers/kv.json", "/var/lib/kv"},
		{"postgres://u@h/db", "postgres", "//u@h/db"}, // no URL magic: the first ':' splits
	} {
		d, dsn, err := store.SplitDSN(c.in)
		if err != nil || d != c.driver || dsn != c.dsn {
			t.Errorf("SplitDSN(%q) = %q, %q, %v; want %q, %q", c.in, d, dsn, err, c.driver, c.dsn)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"sqlite", `"sqlite" has no ':'`},
		{":x.db", `":x.db" names no driver`},
		{"", "empty"},
	} {
		_, _, err := store.SplitDSN(c.in)
		if !errors.Is(err, store.ErrInvalidDSN) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "DRIVER:DSN") {
			t.Errorf("SplitDSN(%q) = %v; want ErrInvalidDSN saying %q and DRIVER:DSN", c.in, err, c.want)
		}
	}
}

// TestOpenDSN: OpenDSN is Open on the two halves, with Open's errors, and a hint for a string
// that looks mistyped.
func TestOpenDSN(t *testing.T) {
	ctx := context.Background()
	s, err := store.OpenDSN(ctx, "inmem:")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	var gotDSN string
	store.Register("test-opendsn", func(_ context.Context, dsn string) (store.Store, error) {
		gotDSN = dsn
		return nil, errors.New("refused")
	})
	_, err = store.OpenDSN(ctx, "test-opendsn:a:b//c")
	if gotDSN != "a:b//c" || err == nil || !strings.Contains(err.Error(), "refused") || strings.Contains(err.Error(), "URL") {
		t.Errorf("OpenDSN gave the driver %q and returned %v; want the DSN a:b//c and the driver's error alone", gotDSN, err)
	}
	_, err = store.OpenDSN(ctx, "test-opendsn://host/db")
	if !strings.Contains(err.Error(), `"test-opendsn:test-opendsn://host/db"`) {
		t.Errorf("OpenDSN of a URL given whole: %v; want a hint to keep the URL's scheme", err)
	}

	_, err = store.OpenDSN(ctx, "no-such-driver:x")
	if !errors.Is(err, store.ErrUnknownDriver) || !strings.Contains(err.Error(), `"no-such-driver"`) {
		t.Errorf("OpenDSN of an unknown driver: %v; want ErrUnknownDriver naming it", err)
	}
	_, err = store.OpenDSN(ctx, `C:\data\app.db`)
	if !errors.Is(err, store.ErrUnknownDriver) || !strings.Contains(err.Error(), `sqlite:C:\\data\\app.db`) {
		t.Errorf("OpenDSN of a Windows path: %v; want ErrUnknownDriver with a hint", err)
	}
	if _, err := store.OpenDSN(ctx, "inmem"); !errors.Is(err, store.ErrInvalidDSN) {
		t.Errorf("OpenDSN(%q) = %v; want ErrInvalidDSN", "inmem", err)
	}
}
