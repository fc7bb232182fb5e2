package pluginguest

import (
	"io"
	"log/slog"
	"os"

	"github.com/dockyard/dockyard/internal/pluginbinding"
)

func levelFromEnv() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(os.Getenv(pluginbinding.LevelEnv))); err != nil {
		return slog.LevelInfo
	}
	return l
}

// timestampLayout is the layout go-plugin's host parses "@timestamp" with.
const timestampLayout = "2006-01-02T15:04:05.000000Z07:00"

// newLogHandler writes slog records as the JSON lines go-plugin's host recognises as hclog
// records ("@level", "@message", "@timestamp", then the attributes), so the host logs each
// at its level instead of as a line of stderr.
func newLogHandler(w io.Writer, level slog.Level) slog.Handler {
	return slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				return slog.String("@timestamp", a.Value.Time().Format(timestampLayout))
			case slog.MessageKey:
				return slog.String("@message", a.Value.String())
			case slog.LevelKey:
				return slog.String("@level", levelName(a.Value.Any().(slog.Level)))
			}
			return a
		},
	})
}

// levelName maps a slog level onto the hclog level names the host parses.
func levelName(l slog.Level) string {
	switch {
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	}
	return "error"
}
