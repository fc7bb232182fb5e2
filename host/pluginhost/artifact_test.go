//go:build unix

package pluginhost

import (
	"os"
	"reflect"
	"testing"
)

// TestEnvOf: a manifest's sandbox.env entry "NAME" takes the host's value, if it has one, and
// "NAME=value" is passed as it is.
func TestEnvOf(t *testing.T) {
	t.Setenv("PGPASSWORD", "pw")
	t.Setenv("UNSET_HERE", "")
	os.Unsetenv("UNSET_HERE")
	if got := envOf([]string{"PGPASSWORD", "MODE=fast", "UNSET_HERE"}); !reflect.DeepEqual(got, []string{"PGPASSWORD=pw", "MODE=fast"}) {
		t.Errorf("envOf = %q", got)
	}
}
