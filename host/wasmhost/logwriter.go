package wasmhost

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Bounds on what a guest's output costs the host's log. A line longer than maxLogLine is cut
// there (the record says how many bytes were cut), so one write of 200 MiB without a newline is
// one 16 KiB record, not 200 MiB held and logged. Each stream may log logRate bytes a second,
// with bursts of as much; lines past that are dropped and counted, and the next line logged
// after them is preceded by a record saying how many were dropped.
const (
	maxLogLine = 16 << 10
	logRate    = 1 << 20
)

// lineWriter turns a guest's output stream into slog records, one per line.
type lineWriter struct {
	log    *slog.Logger
	level  slog.Level
	module string
	stream string
	now    func() time.Time

	mu       sync.Mutex
	buf      []byte
	cut      int // bytes of the current line past maxLogLine
	tokens   float64
	refilled time.Time
	dropped  struct{ lines, bytes int }
	last     string // the last complete line, since ResetLast
	headline string // the first line that looks like a fatal message, since ResetLast
}

// fatalPrefixes start the lines in which a dying guest says why (Go's runtime, Rust, C).
var fatalPrefixes = []string{"fatal error:", "panic:", "thread '", "Assertion failed", "abort"}

func newLineWriter(log *slog.Logger, level slog.Level, module, stream string) *lineWriter {
	return &lineWriter{log: log, level: level, module: module, stream: stream, now: time.Now, tokens: logRate}
}

// Write logs every complete line of p and keeps the rest (up to maxLogLine bytes) for the next
// Write. It never fails.
func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if room := maxLogLine - len(w.buf); len(chunk) > room {
			w.buf = append(w.buf, chunk[:room]...)
			w.cut += len(chunk) - room
		} else {
			w.buf = append(w.buf, chunk...)
		}
		if i < 0 {
			break
		}
		w.emit()
		p = p[i+1:]
	}
	return n, nil
}

// Flush logs a pending partial line, e.g. when the instance is discarded.
func (w *lineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 || w.cut > 0 {
		w.emit()
	}
}

// Last returns what best says why a guest died: the first line since ResetLast that looks like
// a fatal message, else the last line written; "" when there is none.
func (w *lineWriter) Last() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.headline != "":
		return w.headline
	case len(w.buf) > 0:
		return string(w.buf)
	}
	return w.last
}

// ResetLast forgets the remembered lines: Last then reports only later output.
func (w *lineWriter) ResetLast() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last, w.headline = "", ""
}

// emit logs the current line, within the rate, and starts the next.
func (w *lineWriter) emit() {
	s := strings.TrimSuffix(string(w.buf), "\r")
	cut := w.cut
	w.buf, w.cut = w.buf[:0], 0
	w.last = s
	if w.headline == "" {
		for _, p := range fatalPrefixes {
			if strings.HasPrefix(s, p) {
				w.headline = s
				break
			}
		}
	}
	now := w.now()
	w.tokens = min(logRate, w.tokens+now.Sub(w.refilled).Seconds()*logRate)
	w.refilled = now
	size := len(s) + cut
	if w.tokens < float64(len(s)) {
		w.dropped.lines++
		w.dropped.bytes += size
		return
	}
	w.tokens -= float64(len(s))
	ctx := context.Background()
	if w.dropped.lines > 0 {
		w.log.LogAttrs(ctx, slog.LevelWarn, "guest output dropped: over the rate limit of the host's log",
			slog.String("module", w.module), slog.String("stream", w.stream),
			slog.Int("lines", w.dropped.lines), slog.Int("bytes", w.dropped.bytes), slog.Int("bytes_per_second", logRate))
		w.dropped.lines, w.dropped.bytes = 0, 0
	}
	attrs := []slog.Attr{slog.String("module", w.module), slog.String("stream", w.stream)}
	if cut > 0 {
		attrs = append(attrs, slog.Int("cut_bytes", cut))
	}
	w.log.LogAttrs(ctx, w.level, s, attrs...)
}
