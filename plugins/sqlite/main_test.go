package main

import (
	"strings"
	"testing"
)

func TestParseOptions(t *testing.T) {
	for _, ok := range []string{"", " ", `{}`, `{"busy_timeout": "2s", "read_conns": 3}`} {
		if _, err := parseOptions([]byte(ok)); err != nil {
			t.Errorf("options %q: %v", ok, err)
		}
	}
	for in, want := range map[string]string{
		`{"bogus": 1}`:            "unknown field",
		`{"busy_timeout": "2"}`:   `busy_timeout "2"`,
		`{"busy_timeout": "-1s"}`: `busy_timeout "-1s"`,
		`{"read_conns": -1}`:      "read_conns -1",
		`[1]`:                     "cannot unmarshal",
	} {
		if _, err := parseOptions([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("options %s: %v, want an error saying %q", in, err, want)
		}
	}
}
