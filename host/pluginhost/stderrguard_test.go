package pluginhost

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestStderrGuard: lines whose hclog members are not strings come out as plain text; every
// other byte, a line longer than the guard checks included, comes out as it went in, whatever
// the reads' sizes.
func TestStderrGuard(t *testing.T) {
	long := `{"@message":` + strings.Repeat("1", guardLineMax+10) + "}\n"
	in := strings.Join([]string{
		`{"@message":"fine","@level":"info"}`,
		`{"@message":1}`,
		`{"@level":["x"]}`,
		`{"@timestamp":5,"@message":"ok"}`,
		`{"@message":null}`,
		` {"@message":{}} `,
		`plain text`,
		`{not json`,
		"",
		`{"@message":"last"}`,
	}, "\n") + "\n" + long + `{"@message":2}`
	var out bytes.Buffer
	g := newStderrGuard(io.NopCloser(iotest.OneByteReader(strings.NewReader(in))))
	if _, err := io.Copy(&out, g); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	defused := map[int]bool{1: true, 2: true, 3: true, 4: true, 5: true, 11: true}
	src := strings.Split(in, "\n")
	if len(lines) != len(src) {
		t.Fatalf("%d lines out, %d in", len(lines), len(src))
	}
	for i, l := range lines {
		switch {
		case defused[i] && (!strings.HasPrefix(l, "[WARN] malformed plugin log record") || !strings.HasSuffix(l, src[i])):
			t.Errorf("line %d = %.80q, want it defused", i, l)
		case !defused[i] && l != src[i]:
			t.Errorf("line %d = %.80q, want %.80q unchanged", i, l, src[i])
		}
	}
}
