//go:build unix

package pluginhost

import (
	"context"
	"io"
	"log"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/time/rate"
)

// hcLogger is an hclog.Logger that writes to a slog.Logger: go-plugin logs through hclog,
// both its own records and those it parses from the plugin's stderr, and the host logs
// through slog. Levels map one to one (hclog's Trace is slog.LevelDebug-4).
type hcLogger struct {
	base    *slog.Logger // without name and implied args
	l       *slog.Logger // base with them
	name    string
	implied []any
	limit   *logLimit // shared by every logger derived from one plugin's
}

func newHCLogger(l *slog.Logger, name string, limit *logLimit) hclog.Logger {
	return derive(l, name, nil, limit)
}

func derive(base *slog.Logger, name string, implied []any, limit *logLimit) *hcLogger {
	l := base
	if name != "" {
		l = l.With("logger", name)
	}
	if len(implied) > 0 {
		l = l.With(implied...)
	}
	return &hcLogger{base: base, l: l, name: name, implied: implied, limit: limit}
}

// Log forwarding is rate-limited per plugin: a plugin that floods its stderr (one logged
// 333,000 records in 5 s) would otherwise flood the application's log, and its disk. Records
// past the limit are dropped and counted; the next record let through is preceded by a warning
// with the count.
const (
	LogRate  = 200  // records per second, on average
	LogBurst = 1000 // records at once
)

// logLimit is one plugin's log budget, kept across its restarts.
type logLimit struct {
	lim            *rate.Limiter
	pending, total atomic.Int64 // dropped since the last warning, and ever
}

func newLogLimit() *logLimit { return &logLimit{lim: rate.NewLimiter(LogRate, LogBurst)} }

func slogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	}
	return slog.LevelInfo
}

func (h *hcLogger) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Info && msg == goPluginExited {
		// go-plugin says so at Info on every clean stop, so an application's log would show a
		// line per closed store; a plugin that dies is logged at Error by go-plugin, and at
		// Warn by the transport, which restarts it.
		level = hclog.Debug
	}
	if level == hclog.Off || level == hclog.NoLevel || !h.enabled(level) {
		return
	}
	if h.limit != nil {
		if !h.limit.lim.Allow() {
			h.limit.pending.Add(1)
			h.limit.total.Add(1)
			return
		}
		if n := h.limit.pending.Swap(0); n > 0 {
			h.base.Warn("plugin log records dropped: over the rate limit", "dropped", n, "limit_per_second", LogRate)
		}
	}
	h.l.Log(context.Background(), slogLevel(level), msg, args...)
}

// goPluginExited is go-plugin's message when a plugin process ends.
const goPluginExited = "plugin process exited"

func (h *hcLogger) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *hcLogger) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *hcLogger) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *hcLogger) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *hcLogger) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }

func (h *hcLogger) enabled(l hclog.Level) bool {
	return h.l.Enabled(context.Background(), slogLevel(l))
}

func (h *hcLogger) IsTrace() bool { return h.enabled(hclog.Trace) }
func (h *hcLogger) IsDebug() bool { return h.enabled(hclog.Debug) }
func (h *hcLogger) IsInfo() bool  { return h.enabled(hclog.Info) }
func (h *hcLogger) IsWarn() bool  { return h.enabled(hclog.Warn) }
func (h *hcLogger) IsError() bool { return h.enabled(hclog.Error) }

// GetLevel reports the lowest level the slog handler takes: go-plugin drops the plugin's
// records below it without parsing them.
func (h *hcLogger) GetLevel() hclog.Level {
	for _, l := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if h.enabled(l) {
			return l
		}
	}
	return hclog.Off
}

// SetLevel does nothing: the level is the slog handler's.
func (h *hcLogger) SetLevel(hclog.Level) {}

func (h *hcLogger) ImpliedArgs() []any { return h.implied }

func (h *hcLogger) With(args ...any) hclog.Logger {
	return derive(h.base, h.name, append(append([]any(nil), h.implied...), args...), h.limit)
}

func (h *hcLogger) Name() string { return h.name }

// Named and ResetNamed record the name as the attribute "logger": go-plugin names its logger
// for a plugin after the binary.
func (h *hcLogger) Named(name string) hclog.Logger {
	if h.name != "" {
		name = h.name + "." + name
	}
	return h.ResetNamed(name)
}

func (h *hcLogger) ResetNamed(name string) hclog.Logger {
	return derive(h.base, name, h.implied, h.limit)
}

func (h *hcLogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(h.StandardWriter(opts), "", 0)
}

func (h *hcLogger) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		h.Info(strings.TrimRight(string(p), "\n"))
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
