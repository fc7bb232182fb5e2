package pdktest

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/crashtest"
	"github.com/dockyard/dockyard/store"
)

// crashEnv names, in the test binary run again as the crash child, the directory the child
// writes to. One name does for every crash test: the child runs only the test that started it.
const crashEnv = "DOCKYARD_PDKTEST_CRASH_DIR"

// CrashTest is the SIGKILL durability test of a durable driver, in any form: open opens its
// store on a data directory (a *wasmhost.Module's Open, a *Binary's, or an in-process
// driver's). The test binary is run again as a child, running only the test that called
// CrashTest, which commits numbered transactions on a fresh directory and acknowledges each
// on stdout; it is killed with SIGKILL at a random moment, the store is reopened and must
// hold every acknowledged transaction, in full, and at most the one in flight beyond them.
// rounds is how many kills over the same directory (0: 20, or 5 under -short), so each round
// also recovers from the last.
//
// In the child, CrashTest does not return. The test must do nothing before calling it that
// writes to stderr: the parent fails a child that wrote there (a failure, a race report).
func CrashTest(t *testing.T, rounds int, open func(ctx context.Context, dir string) (store.Store, error)) {
	t.Helper()
	cfg := crashtest.Config{Env: crashEnv, Child: runPattern(t.Name()), Open: open, Reopen: retried(open)}
	if os.Getenv(crashEnv) != "" {
		crashtest.Child(t, cfg) // until killed
		return
	}
	cfg.Target, cfg.Rounds = t.TempDir(), rounds
	if rounds <= 0 {
		cfg.Rounds = 20
		if testing.Short() {
			cfg.Rounds = 5
		}
	}
	crashtest.Run(t, cfg)
}

// runPattern is the -test.run pattern that selects the test named name, and only it.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// retried is open retried for up to five seconds: after the child's SIGKILL a process it
// started (a plugin, which its parent's death kills in turn) may hold the store's lock a
// moment longer.
func retried(open func(ctx context.Context, dir string) (store.Store, error)) func(ctx context.Context, dir string) (store.Store, error) {
	return func(ctx context.Context, dir string) (store.Store, error) {
		deadline := time.Now().Add(5 * time.Second)
		for {
			s, err := open(ctx, dir)
			if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
				return s, err
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
