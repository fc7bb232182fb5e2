// Package logtest is a slog.Handler that keeps what it is given, for tests that check what a
// package logged (host/wasmhost's guests' output and sandbox warnings, internal/rootfs's).
package logtest

import (
	"context"
	"log/slog"
	"strings"
	"sync"
)

// Recorder keeps every record logged to it, at every level. It is safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *Recorder) Enabled(context.Context, slog.Level) bool { return true }

func (h *Recorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}

func (h *Recorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *Recorder) WithGroup(string) slog.Handler      { return h }

// Find returns the first record whose message contains msg.
func (h *Recorder) Find(msg string) (slog.Record, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.records {
		if strings.Contains(r.Message, msg) {
			return r, true
		}
	}
	return slog.Record{}, false
}

// Records returns the records kept so far, in order.
func (h *Recorder) Records() []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]slog.Record(nil), h.records...)
}
