package etcdtest

import (
	"errors"
	"os"
	"testing"

	"github.com/dockyard/dockyard/internal/testproc"
)

// TestClose: Close leaves no process and no directory.
func TestClose(t *testing.T) {
	c := NewCluster(t, 1)
	pid := c.members[0].proc.Pid
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	testproc.WaitGone(t, pid)
	if _, err := os.Stat(c.dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s still exists after Close (%v)", c.dir, err)
	}
}

// TestNoOrphan: a cluster's member dies with the test process that started it, killed with
// SIGKILL (the parent-death signal), and the next cluster started removes the dead one's
// directory.
func TestNoOrphan(t *testing.T) {
	// Whether a cluster can be had, without starting one: the child runs this test too.
	if _, err := etcdBinary(); err != nil {
		NewCluster(t, 1) // ends t through testenv.Unavailable
	}
	testproc.CheckOrphan(t, func() (int, string, error) {
		c, err := StartCluster(1)
		if err != nil {
			return 0, "", err
		}
		return c.members[0].proc.Pid, c.dir, nil
	}, removeStaleDirs)
}
