package pdk

import (
	"strings"
	"testing"
)

// TestParseDSNForm: the four forms exactly; anything else is an error naming it.
func TestParseDSNForm(t *testing.T) {
	for _, f := range []DSNForm{DSNEmpty, DSNFile, DSNDir, DSNServer} {
		if got, err := ParseDSNForm(string(f)); got != f || err != nil {
			t.Errorf("ParseDSNForm(%q) = %q, %v", f, got, err)
		}
	}
	for _, s := range []string{"", "File", "url", "auto", " dir"} {
		if _, err := ParseDSNForm(s); err == nil || !strings.Contains(err.Error(), `"`+s+`"`) || !strings.Contains(err.Error(), `"server"`) {
			t.Errorf("ParseDSNForm(%q) = %v; want an error naming it and the forms", s, err)
		}
	}
}

// TestDeclareDSNUnknownForm: declaring a form that does not exist panics, naming the driver.
func TestDeclareDSNUnknownForm(t *testing.T) {
	defer func() {
		r, _ := recover().(string)
		if !strings.Contains(r, "test-bad-form") || !strings.Contains(r, `"url"`) {
			t.Errorf("DeclareDSN of an unknown form panicked with %q; want the driver and the form named", r)
		}
		if _, ok := DSNOf("test-bad-form"); ok {
			t.Error("the unknown form was recorded")
		}
	}()
	DeclareDSN("test-bad-form", "url")
	t.Error("DeclareDSN of an unknown form did not panic")
}

func TestRedactDSN(t *testing.T) {
	for in, want := range map[string]string{
		"etcd://u:s3cret@h:1,h:2/p?x=1": "etcd://u:xxxxx@h:1,h:2/p?x=1",
		"postgres://app:pw@db/app":      "postgres://app:xxxxx@db/app",
		"redis://u@h:6379":              "redis://u@h:6379",
		"etcd://h:1/a@b":                "etcd://h:1/a@b",
		"u:s3cret@h:1":                  "xxxxx@h:1",
		"./data/app.db":                 "./data/app.db",
		"etcd://u:p%40ss@word@h:1/x":    "etcd://u:xxxxx@h:1/x",
	} {
		if got := RedactDSN(in); got != want {
			t.Errorf("RedactDSN(%q) = %q, want %q", in, got, want)
		}
	}
}
