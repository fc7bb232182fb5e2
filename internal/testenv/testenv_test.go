package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestUnavailable runs a probe test in a child process with and without CI=true: locally the
// probe skips with the loud marker, under CI it fails.
func TestUnavailable(t *testing.T) {
	if os.Getenv("TESTENV_PROBE") == "1" {
		LookPath(t, "dockyard-no-such-program")
		t.Fatal("LookPath returned for a missing program")
	}
	for _, ci := range []string{"false", "true"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestUnavailable$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTENV_PROBE=1", "CI="+ci)
		out, err := cmd.CombinedOutput()
		switch ci {
		case "false":
			if err != nil || !strings.Contains(string(out), "SKIP!!! REQUIREMENT MISSING: dockyard-no-such-program") {
				t.Errorf("locally: err=%v, output:\n%s\nwant a loud skip", err, out)
			}
		case "true":
			if err == nil || !strings.Contains(string(out), "CI=true: a missing requirement is a failure") {
				t.Errorf("under CI: err=%v, output:\n%s\nwant a failure", err, out)
			}
		}
	}
}
