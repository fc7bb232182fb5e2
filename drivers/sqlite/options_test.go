package sqlite_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/drivers/sqlite"
	"github.com/dockyard/dockyard/pdk"
)

// TestInvalidOptions: an invalid option value is an error naming the option, whether it came
// from a With function or from a manifest's JSON, never ignored or replaced by the default.
func TestInvalidOptions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	for name, opt := range map[string]sqlite.Option{
		"read_conns 0":       sqlite.WithReadConns(0),
		`busy_timeout "-1s"`: sqlite.WithBusyTimeout(-time.Second),
		"read_conns -3":      sqlite.WithOptions(sqlite.Options{ReadConns: -3}),
	} {
		if s, err := sqlite.Open(t.Context(), path, opt); err == nil || !strings.Contains(err.Error(), name) {
			if s != nil {
				s.Close()
			}
			t.Errorf("Open with %s: %v, want an error naming it", name, err)
		}
	}
	o := sqlite.DefaultOptions()
	if err := pdk.DecodeOptions([]byte(`{"read_conns": 0}`), &o); err == nil || !strings.Contains(err.Error(), "read_conns 0") {
		t.Errorf("DecodeOptions read_conns 0: %v, want an error naming it", err)
	}
	o = sqlite.DefaultOptions()
	if err := pdk.DecodeOptions([]byte(`{"busy_timeout": "250ms"}`), &o); err != nil || time.Duration(o.BusyTimeout) != 250*time.Millisecond ||
		o.ReadConns != sqlite.DefaultOptions().ReadConns {
		t.Errorf("DecodeOptions busy_timeout 250ms: %+v, %v; want it set and read_conns at its default", o, err)
	}
}
