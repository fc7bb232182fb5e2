package sqlite

import "testing"

func TestURIEscapesPath(t *testing.T) {
	got := uri("/tmp/a?b#c%d e/x.db", "q=1")
	want := "file:/tmp/a%3Fb%23c%25d%20e/x.db?q=1"
	if got != want {
		t.Fatalf("uri = %q, want %q", got, want)
	}
}
