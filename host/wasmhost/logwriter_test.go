package wasmhost

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"
	"time"
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
	r, ok := rec.Find("three")
	if !ok || r.Level != slog.LevelWarn || attr(r, "module") != "m" || attr(r, "stream") != "stderr" {
		t.Fatalf("flushed line logged as %+v, %v", r, ok)
	}
	if _, ok := rec.Find("two"); !ok {
		t.Fatal("a line split across writes was not logged")
	}
	w.ResetLast()
	w.Write([]byte("four\nfi"))
	if got := w.Last(); got != "fi" {
		t.Fatalf("Last after ResetLast = %q, want the partial line", got)
	}
}

// TestLineWriterCutsLongLines: a 200 MiB write without a newline is held and logged as one
// line of maxLogLine bytes that says how much was cut.
func TestLineWriterCutsLongLines(t *testing.T) {
	rec := &logRecorder{}
	w := newLineWriter(slog.New(rec), slog.LevelInfo, "m", "stdout")
	big := bytes.Repeat([]byte("x"), 200<<20)
	w.Write(big)
	if len(w.buf) > maxLogLine {
		t.Fatalf("the writer holds %d bytes of one line", len(w.buf))
	}
	w.Write([]byte("yyy\nnext\n"))
	if len(rec.Records()) != 2 {
		t.Fatalf("%d records, want the cut line and the next", len(rec.Records()))
	}
	r := rec.Records()[0]
	if len(r.Message) != maxLogLine || attr(r, "cut_bytes") != fmt.Sprint(200<<20+3-maxLogLine) {
		t.Errorf("cut line: %d bytes, cut_bytes %s", len(r.Message), attr(r, "cut_bytes"))
	}
	if rec.Records()[1].Message != "next" {
		t.Errorf("next line %q", rec.Records()[1].Message)
	}
}

// TestLineWriterRate: a stream logs at most logRate bytes a second (with a burst of as much);
// the lines over it are dropped and counted, and the count is logged before the next line.
func TestLineWriterRate(t *testing.T) {
	rec := &logRecorder{}
	w := newLineWriter(slog.New(rec), slog.LevelInfo, "m", "stdout")
	clock := time.Unix(1000, 0)
	w.now = func() time.Time { return clock }
	line := append(bytes.Repeat([]byte("z"), 1023), '\n') // 1 KiB with its newline
	for range 4 << 10 {                                   // 4 MiB in no time
		w.Write(line)
	}
	logged := 0
	for _, r := range rec.Records() {
		logged += len(r.Message)
	}
	if logged > logRate {
		t.Errorf("logged %d bytes in an instant, over the %d-byte burst", logged, logRate)
	}
	if logged < logRate/2 {
		t.Errorf("logged only %d bytes of the burst", logged)
	}
	clock = clock.Add(time.Second)
	w.Write([]byte("after\n"))
	d, ok := rec.Find("guest output dropped")
	if !ok {
		t.Fatal("the dropped lines were not reported")
	}
	if got, want := attr(d, "lines"), fmt.Sprint(4<<10-len(rec.Records())+2); got != want {
		t.Errorf("dropped lines = %s, want %s", got, want)
	}
	if last := rec.Records()[len(rec.Records())-1]; last.Message != "after" {
		t.Errorf("the line after the pause was %q", last.Message)
	}
}
