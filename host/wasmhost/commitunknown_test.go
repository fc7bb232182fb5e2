package wasmhost

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/store"
)

// commitUnknownWasm is pdk/testdata/commitunknown: inmem whose commits of writes to the
// namespace "unknown" report store.ErrCommitUnknown.
var commitUnknownWasm = &builtModule{dir: "../../pdk/testdata/commitunknown"}

// TestCommitUnknownThroughWasm: a guest driver's unknown commit reaches the application as
// store.ErrCommitUnknown (ABI 1.1's COMMIT_UNKNOWN), with the driver's message, and the store
// goes on: the instance is fine.
func TestCommitUnknownThroughWasm(t *testing.T) {
	m := compileBuilt(t, commitUnknownWasm, WithName("commitunknown"))
	s := openStore(t, m, "")
	err := s.Update(context.Background(), func(tx store.Tx) error { return tx.Put("unknown", "k", []byte("v")) })
	if !errors.Is(err, store.ErrCommitUnknown) || !strings.Contains(err.Error(), "whether it committed is unknown") {
		t.Fatalf("Update = %v; want store.ErrCommitUnknown with the driver's message", err)
	}
	put(t, s, "ns", "k", "v")
	if v, err := get(t, s, "ns", "k"); err != nil || v != "v" {
		t.Fatalf("after the unknown commit: %q, %v", v, err)
	}
}
