package main

import (
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/drivers/etcd"
	"github.com/dockyard/dockyard/pdk"
)

func TestParseOptions(t *testing.T) {
	def := etcd.DefaultOptions()
	ttl := def
	ttl.LockTTL = pdk.Duration(3 * time.Second)
	all := etcd.Options{LockTTL: pdk.Duration(2 * time.Second), DialTimeout: pdk.Duration(time.Second),
		RequestTimeout: pdk.Duration(4 * time.Second), MaxRequestBytes: 16 << 20}
	for in, want := range map[string]etcd.Options{
		"": def, `{}`: def, `{"lock_ttl": "3s"}`: ttl,
		`{"lock_ttl": "2s", "dial_timeout": "1s", "request_timeout": "4s", "max_request_bytes": 16777216}`: all,
	} {
		o, err := parseOptions([]byte(in))
		if err != nil || o != want {
			t.Errorf("options %q: %+v, %v; want %+v", in, o, err, want)
		}
	}
	for in, want := range map[string]string{
		`{"lockttl": "3s"}`:              "unknown field",
		`{"lock_ttl": 3}`:                "option lock_ttl 3",
		`{"lock_ttl": "500ms"}`:          "lock_ttl 500ms: want whole seconds",
		`{"max_request_bytes": 1048576}`: "max_request_bytes 1048576",
		`{"request_timeout": "0s"}`:      "request_timeout 0s",
	} {
		if _, err := parseOptions([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("options %s: %v, want an error saying %q", in, err, want)
		}
	}
}
