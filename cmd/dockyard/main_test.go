package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/cmd/dockyard/internal/broken"
	"github.com/dockyard/dockyard/internal/etcdtest"
	"github.com/dockyard/dockyard/internal/pgtest"
)

func TestMain(m *testing.M) {
	// The tests load only the driver directories they name, whatever the environment says.
	os.Setenv("DOCKYARD_DRIVERS", "")
	os.Unsetenv(EnvStore) // nor a default store of the environment's
	broken.Register()
	code := m.Run()
	// Stop the test servers that were started for the tests: the PostgreSQL server and the
	// etcd cluster.
	pgtest.Shutdown()
	etcdtest.Shutdown()
	os.Exit(code)
}

// result is what one run of the CLI did.
type result struct {
	stdout, stderr string
	code           int
}

// dockyard runs the CLI with args and stdin, in-process, as the dockyard binary would.
func dockyard(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// mustRun runs the CLI and fails t unless it exits with want.
func mustRun(t *testing.T, want int, stdin string, args ...string) result {
	t.Helper()
	r := dockyard(t, stdin, args...)
	if r.code != want {
		t.Fatalf("dockyard %q: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", args, r.code, want, r.stdout, r.stderr)
	}
	return r
}

// decodeJSON parses s into v, failing t.
func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("output is not the JSON expected: %v\n%s", err, s)
	}
}
