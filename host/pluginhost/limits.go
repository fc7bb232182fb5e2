//go:build unix

package pluginhost

import "time"

// Limits are the resource limits of a plugin process and of everything it starts (each process
// has its own: they are the kernel's per-process limits). A zero field takes its default from
// DefaultLimits; a negative one means no limit.
type Limits struct {
	// Memory caps each process's address space (RLIMIT_AS), in bytes: an allocation past it
	// fails, and a Go plugin exits with "out of memory". It bounds virtual memory, which is
	// more than what a process uses: leave room.
	Memory int64
	// OpenFiles caps each process's descriptors (RLIMIT_NOFILE).
	OpenFiles int64
	// Processes caps the processes of the plugin's user (RLIMIT_NPROC). Linux counts every
	// process of that user, the host's included, and does not apply it to root.
	Processes int64
	// CPUTime caps each process's CPU time (RLIMIT_CPU, whole seconds): past it the kernel
	// kills the process. Off by default: a healthy plugin that runs for days accumulates it.
	CPUTime time.Duration
}

// DefaultLimits apply to every plugin unless WithLimits changes them: room for any ordinary
// driver, a bound on one that goes wrong. Core dumps are always off (a plugin's memory holds
// the application's data).
var DefaultLimits = Limits{Memory: 8 << 30, OpenFiles: 4096}

// WithLimits sets the plugin's resource limits (Linux; elsewhere they are not applied, and
// the containment warning says so).
func WithLimits(l Limits) Option { return func(c *config) { c.limits = l } }

// resolved fills l's zero fields from DefaultLimits.
func (l Limits) resolved() Limits {
	d := DefaultLimits
	for _, f := range []struct{ v, def *int64 }{{&l.Memory, &d.Memory}, {&l.OpenFiles, &d.OpenFiles}, {&l.Processes, &d.Processes}} {
		if *f.v == 0 {
			*f.v = *f.def
		}
	}
	if l.CPUTime == 0 {
		l.CPUTime = d.CPUTime
	}
	return l
}
