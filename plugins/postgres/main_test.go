package main

import (
	"strings"
	"testing"

	"github.com/dockyard/dockyard/drivers/postgres"
)

func TestParseOptions(t *testing.T) {
	def := postgres.DefaultOptions()
	for in, want := range map[string]postgres.Options{
		"": def, `{}`: def, `{"table": "orders"}`: {Table: "orders", ReadConns: def.ReadConns},
		`{"table": "orders", "read_conns": 2}`: {Table: "orders", ReadConns: 2},
	} {
		o, err := parseOptions([]byte(in))
		if err != nil || o != want {
			t.Errorf("options %q: %+v, %v; want %+v", in, o, err, want)
		}
	}
	for in, want := range map[string]string{
		`{"tabel": "x"}`:     "unknown field",
		`{"read_conns": -2}`: "read_conns -2",
	} {
		if _, err := parseOptions([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("options %s: %v, want an error saying %q", in, err, want)
		}
	}
}
