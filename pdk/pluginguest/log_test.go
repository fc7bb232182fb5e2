package pluginguest

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/pluginbinding"
)

// TestLogHandler checks a record is written as the JSON line go-plugin's host parses as an
// hclog record: "@level" among its level names, "@message", "@timestamp" in its layout, and the
// attributes as they are; and records below the level are not written.
func TestLogHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(newLogHandler(&buf, slog.LevelInfo))
	log.Debug("dropped")
	log.Warn("disk slow", "ms", 12, slog.Group("g", "k", "v"))
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not one JSON line: %q: %v", buf.String(), err)
	}
	if rec["@level"] != "warn" || rec["@message"] != "disk slow" || rec["ms"] != float64(12) {
		t.Errorf("record %v", rec)
	}
	if g, ok := rec["g"].(map[string]any); !ok || g["k"] != "v" {
		t.Errorf("group attribute %v", rec["g"])
	}
	ts, _ := rec["@timestamp"].(string)
	if _, err := time.Parse(timestampLayout, ts); err != nil {
		t.Errorf("@timestamp %q: %v", ts, err)
	}
	for l, want := range map[slog.Level]string{slog.LevelDebug - 4: "debug", slog.LevelDebug: "debug",
		slog.LevelInfo: "info", slog.LevelWarn + 1: "warn", slog.LevelError: "error", slog.LevelError + 4: "error"} {
		if got := levelName(l); got != want {
			t.Errorf("levelName(%v) = %q, want %q", l, got, want)
		}
	}
}

func TestLevelFromEnv(t *testing.T) {
	for env, want := range map[string]slog.Level{"": slog.LevelInfo, "debug": slog.LevelDebug, "WARN": slog.LevelWarn, "bogus": slog.LevelInfo} {
		t.Setenv(pluginbinding.LevelEnv, env)
		if got := levelFromEnv(); got != want {
			t.Errorf("%s=%q: level %v, want %v", pluginbinding.LevelEnv, env, got, want)
		}
	}
}
