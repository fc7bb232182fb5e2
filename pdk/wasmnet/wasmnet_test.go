package wasmnet

import (
	"context"
	"errors"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/dockyard/dockyard/internal/wasmbinding"
)

// TestImportNames checks the //go:wasmimport directives spell the binding's names: a directive
// needs literals, so the compiler cannot check them against internal/wasmbinding.
func TestImportNames(t *testing.T) {
	src, err := os.ReadFile("host_wasip1.go")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range regexp.MustCompile(`(?m)^//go:wasmimport (\S+) (\S+)$`).FindAllSubmatch(src, -1) {
		if string(m[1]) != wasmbinding.ImportNet {
			t.Errorf("host_wasip1.go imports from %q, not the binding's %q", m[1], wasmbinding.ImportNet)
		}
		got = append(got, string(m[2]))
	}
	want := []string{wasmbinding.NetConnect, wasmbinding.NetRead, wasmbinding.NetWrite, wasmbinding.NetClose, wasmbinding.NetLastError}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("host_wasip1.go imports %q, want the binding's %q", got, want)
	}
}

// TestNotWasm: outside a wasm guest the package builds and Dial says why it cannot work.
func TestNotWasm(t *testing.T) {
	_, err := Dial(context.Background(), "tcp", "db.internal:5432")
	if !errors.Is(err, ErrNotWasm) {
		t.Fatalf("Dial = %v, want ErrNotWasm", err)
	}
	t.Log(err)
	if _, err := Dial(context.Background(), "udp", "db.internal:5432"); err == nil || errors.Is(err, ErrNotWasm) {
		t.Errorf("Dial(udp) = %v, want an unknown network", err)
	}
	if got, _ := LookupHost(context.Background(), "db.internal"); !slices.Equal(got, []string{"db.internal"}) {
		t.Errorf("LookupHost = %q", got)
	}
}
