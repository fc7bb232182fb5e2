package pluginhost

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// Linux has no way to give a child its own resource limits as it is forked (they are
// per-process, and Go's fork takes no hook), and setting them after the fork would let the
// plugin run, and start children, before they apply. So the child asks to be traced
// (SysProcAttr.Ptrace), which stops it at its first instruction after exec; the forking
// thread, its tracer, sets the limits with prlimit and lets it go. Nothing of the plugin has
// run by then.

// any reports whether l sets a limit: always, since core dumps are always off.
func (l rlimits) any() bool { return true }

// rlimits are the limits applied to a plugin, as the kernel takes them.
type rlimits []struct {
	resource int
	value    uint64
}

func (l Limits) rlimits() rlimits {
	l = l.resolved()
	out := rlimits{{unix.RLIMIT_CORE, 0}}
	for _, r := range []struct {
		resource int
		v        int64
	}{{unix.RLIMIT_AS, l.Memory}, {unix.RLIMIT_NOFILE, l.OpenFiles}, {unix.RLIMIT_NPROC, l.Processes}, {unix.RLIMIT_CPU, int64(l.CPUTime.Seconds())}} {
		if r.v > 0 {
			out = append(out, struct {
				resource int
				value    uint64
			}{r.resource, uint64(r.v)})
		}
	}
	return out
}

// set waits for the traced child pid to stop at its exec, sets the limits and detaches.
func (l rlimits) set(pid int) error {
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, syscall.WALL, nil); err != nil {
		return fmt.Errorf("waiting for the plugin to stop at exec: %w", err)
	}
	if !ws.Stopped() || ws.StopSignal() != syscall.SIGTRAP {
		return fmt.Errorf("the plugin did not stop at exec (wait status %v)", ws)
	}
	for _, r := range l {
		lim := unix.Rlimit{Cur: r.value, Max: r.value}
		if err := unix.Prlimit(pid, r.resource, &lim, nil); err != nil {
			return fmt.Errorf("setting resource limit %d to %d: %w", r.resource, r.value, err)
		}
	}
	if err := syscall.PtraceDetach(pid); err != nil {
		return fmt.Errorf("releasing the plugin after setting its limits: %w", err)
	}
	return nil
}
