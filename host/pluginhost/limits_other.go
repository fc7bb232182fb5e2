//go:build unix && !linux

package pluginhost

// rlimits: elsewhere no limit is applied.
type rlimits struct{}

func (l Limits) rlimits() rlimits { return rlimits{} }
func (rlimits) any() bool         { return false }
func (rlimits) set(pid int) error { return nil }
