package wasm

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
)

// maxLogLine is the longest guest line logged as one record; a longer one is split.
const maxLogLine = 16 << 10

// lineWriter turns a guest's output stream into slog records, one per line.
type lineWriter struct {
	log    *slog.Logger
	level  slog.Level
	module string
	stream string

	mu       sync.Mutex
	buf      []byte
	last     string // the last complete line, since ResetLast
	headline string // the first line that looks like a fatal message, since ResetLast
}

// fatalPrefixes start the lines in which a dying guest says why (Go's runtime, Rust, C).
var fatalPrefixes = []string{"fatal error:", "panic:", "thread '", "Assertion failed", "abort"}

func newLineWriter(log *slog.Logger, level slog.Level, module, stream string) *lineWriter {
	return &lineWriter{log: log, level: level, module: module, stream: stream}
}

// Write logs every complete line of p and keeps the rest for the next Write. It never fails.
func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.buf = append(w.buf, p...)
			if len(w.buf) >= maxLogLine {
				w.emit(w.buf)
				w.buf = w.buf[:0]
			}
			break
		}
		if len(w.buf) > 0 {
			w.buf = append(w.buf, p[:i]...)
			w.emit(w.buf)
			w.buf = w.buf[:0]
		} else {
			w.emit(p[:i])
		}
		p = p[i+1:]
	}
	return n, nil
}

// Flush logs a pending partial line, e.g. when the instance is discarded.
func (w *lineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit(w.buf)
		w.buf = w.buf[:0]
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

func (w *lineWriter) emit(line []byte) {
	s := strings.TrimSuffix(string(line), "\r")
	w.last = s
	if w.headline == "" {
		for _, p := range fatalPrefixes {
			if strings.HasPrefix(s, p) {
				w.headline = s
				break
			}
		}
	}
	w.log.LogAttrs(context.Background(), w.level, s,
		slog.String("module", w.module), slog.String("stream", w.stream))
}
