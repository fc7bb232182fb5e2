package pluginhost

import (
	"log/slog"
	"testing"
)

// TestCleanExitLoggedAtDebug: go-plugin's Info line on every clean stop of a plugin reaches
// the log at Debug, so an application's log does not get a line per closed store; the same
// message at Error (a plugin that died) keeps its level.
func TestCleanExitLoggedAtDebug(t *testing.T) {
	h := &recorder{}
	l := newHCLogger(slog.New(h), "", nil)
	l.Info(goPluginExited, "id", 1)
	l.Error(goPluginExited, "error", "signal: killed")
	l.Info("another line")
	recs := h.rootOf().recs
	want := []slog.Level{slog.LevelDebug, slog.LevelError, slog.LevelInfo}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i, r := range recs {
		if r.Level != want[i] {
			t.Errorf("record %d %q at %v, want %v", i, r.Message, r.Level, want[i])
		}
	}
}
