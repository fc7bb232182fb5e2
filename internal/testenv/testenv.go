// Package testenv is the one place that decides whether a test may skip.
//
// A test that needs something from outside the Go toolchain (clang, a PostgreSQL server) asks
// for it here. Locally, when it is missing, the test is skipped with a loud reason so that
// nobody mistakes a skip for a pass; under CI=true the same test fails instead, because CI must
// prove every driver in every form. No other test in this module skips.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true), where nothing may be skipped.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable ends t because an outside requirement is missing: a failure under CI, a loud
// skip elsewhere. what names the requirement, why says what was tried.
func Unavailable(t testing.TB, what, why string) {
	t.Helper()
	msg := fmt.Sprintf("REQUIREMENT MISSING: %s: %s", what, why)
	if InCI() {
		t.Fatalf("%s (CI=true: a missing requirement is a failure, not a skip)", msg)
	}
	t.Skipf("SKIP!!! %s (run `make test`, which installs it, or set CI=true to make this a failure)", msg)
}

// LookPath returns the path of the named program, or ends t through Unavailable.
func LookPath(t testing.TB, program string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err != nil {
		Unavailable(t, program, err.Error())
	}
	return path
}
