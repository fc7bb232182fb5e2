package main

import (
	"strings"
	"testing"
)

func TestParseOptions(t *testing.T) {
	for in, n := range map[string]int{"": 0, `{}`: 0, `{"table": "orders"}`: 1, `{"table": "orders", "read_conns": 2}`: 2} {
		opts, err := parseOptions([]byte(in))
		if err != nil || len(opts) != n {
			t.Errorf("options %q: %d options, %v; want %d", in, len(opts), err, n)
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
