package wasmguest

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/dockyard/dockyard/internal/wasmbinding"
)

// TestExportNames checks the //go:wasmexport directives spell the binding's export names: a
// directive needs a literal, so the compiler cannot check it against internal/wasmbinding.
func TestExportNames(t *testing.T) {
	src, err := os.ReadFile("exports_wasip1.go")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range regexp.MustCompile(`(?m)^//go:wasmexport (\S+)$`).FindAllSubmatch(src, -1) {
		got = append(got, string(m[1]))
	}
	for _, want := range []string{wasmbinding.ExportBuffer, wasmbinding.ExportCall} {
		if !slices.Contains(got, want) {
			t.Errorf("exports_wasip1.go exports %q, not the binding's %q", got, want)
		}
	}
}
