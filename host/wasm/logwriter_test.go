package wasm

import (
	"log/slog"
	"testing"
)

func TestLineWriter(t *testing.T) {
	rec := &logRecorder{}
	w := newLineWriter(slog.New(rec), slog.LevelWarn, "m", "stderr")
	w.Write([]byte("one\ntw"))
	w.Write([]byte("o\r\nfatal error: out of memory\nthree"))
	if got := w.Last(); got != "fatal error: out of memory" {
		t.Fatalf("Last = %q, want the fatal line", got)
	}
	w.Flush()
	r, ok := rec.find("three")
	if !ok || r.Level != slog.LevelWarn || attr(r, "module") != "m" || attr(r, "stream") != "stderr" {
		t.Fatalf("flushed line logged as %+v, %v", r, ok)
	}
	if _, ok := rec.find("two"); !ok {
		t.Fatal("a line split across writes was not logged")
	}
	w.ResetLast()
	w.Write([]byte("four\nfi"))
	if got := w.Last(); got != "fi" {
		t.Fatalf("Last after ResetLast = %q, want the partial line", got)
	}
}
