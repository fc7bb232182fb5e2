//go:build unix

package pluginhost

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/store"
)

var commitUnknownBin struct {
	once sync.Once
	path string
	err  error
}

// commitUnknownBinary builds pdk/testdata/commitunknown, inmem whose commits of writes to the
// namespace "unknown" report store.ErrCommitUnknown, once per test binary.
func commitUnknownBinary(t testing.TB) string {
	t.Helper()
	commitUnknownBin.once.Do(func() {
		commitUnknownBin.path, commitUnknownBin.err = artifactbuild.BuildPlugin("../../pdk/testdata/commitunknown")
	})
	if commitUnknownBin.err != nil {
		t.Fatal(commitUnknownBin.err)
	}
	return commitUnknownBin.path
}

// TestCommitUnknownThroughPlugin: a plugin driver's unknown commit reaches the application as
// store.ErrCommitUnknown (ABI 1.1's COMMIT_UNKNOWN), with the driver's message, where it used
// to be a plain error; the plugin goes on serving.
func TestCommitUnknownThroughPlugin(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, commitUnknownBinary(t), "", WithName("commitunknown"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Update(ctx, func(tx store.Tx) error { return tx.Put("unknown", "k", []byte("v")) })
	if !errors.Is(err, store.ErrCommitUnknown) || !strings.Contains(err.Error(), "whether it committed is unknown") {
		t.Fatalf("Update = %v; want store.ErrCommitUnknown with the driver's message", err)
	}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v")) }); err != nil {
		t.Fatalf("Update after the unknown commit: %v", err)
	}
}
