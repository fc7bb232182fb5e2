package pdk

import (
	"strings"
	"testing"
)

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct {
		prefix, hi string
		ok         bool
	}{
		{"", "", false},
		{"a", "b", true},
		{"abc", "abd", true},
		{"%", "&", true},
		{"_", "`", true},
		{"a%", "a&", true},
		{"\x00", "\x01", true},
		{"a\x00", "a\x01", true},
		{"\x7f", "\x80", true},
		{"a\xfe", "a\xff", true},
		{"a\xff", "b", true},
		{"a\xff\xff", "b", true},
		{"a\xfe\xff", "a\xff", true},
		{"\xff", "", false},
		{"\xff\xff\xff", "", false},
		{"\x00\xff", "\x01", true},
	} {
		hi, ok := PrefixEnd(tc.prefix)
		if hi != tc.hi || ok != tc.ok {
			t.Errorf("PrefixEnd(%q) = %q, %v; want %q, %v", tc.prefix, hi, ok, tc.hi, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		// hi is above every key with the prefix and no key in between lacks it.
		for _, k := range []string{tc.prefix, tc.prefix + "\x00", tc.prefix + "\xff\xff\xff"} {
			if k >= hi {
				t.Errorf("PrefixEnd(%q) = %q is not above %q", tc.prefix, hi, k)
			}
		}
		if strings.HasPrefix(hi, tc.prefix) {
			t.Errorf("PrefixEnd(%q) = %q itself has the prefix", tc.prefix, hi)
		}
	}
}
