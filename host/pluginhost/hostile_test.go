//go:build unix

package pluginhost

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/store"
)

// openHostile opens a store on the hostile fixture in the given mode.
func openHostile(ctx context.Context, t testing.TB, mode string, opts ...Option) (store.Store, error) {
	t.Helper()
	return openHostileAt(ctx, t, mode, "", opts...)
}

// openHostileAt is openHostile with a DSN.
func openHostileAt(ctx context.Context, t testing.TB, mode, dsn string, opts ...Option) (store.Store, error) {
	t.Helper()
	opts = append([]Option{WithEnv("DOCKYARD_HOSTILE=" + mode), WithName("hostile-" + mode)}, opts...)
	s, err := Open(ctx, binary(t, "hostile"), dsn, opts...)
	if err == nil {
		t.Cleanup(func() { _ = s.Close() })
	}
	return s, err
}

// within fails t if f takes longer than d.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	start := time.Now()
	f()
	if took := time.Since(start); took > d {
		t.Errorf("%s took %v, more than %v", what, took, d)
	}
}

func wantErrContains(t *testing.T, what string, err error, target error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", what)
	}
	if target != nil && !errors.Is(err, target) {
		t.Errorf("%s: %v\nwant errors.Is %v", what, err, target)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %q does not say %q", what, err, p)
		}
	}
}

func TestStartFailures(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	notExec := filepath.Join(dir, "plain-file")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		parts      []string
	}{
		{"missing binary", filepath.Join(dir, "absent"), []string{"absent", "no such file"}},
		{"not executable", notExec, []string{"plain-file", "not executable"}},
		{"directory", dir, []string{"not a regular file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(ctx, tc.path, "")
			wantErrContains(t, tc.name, err, ErrStart, tc.parts...)
		})
	}
	t.Run("crashes at start", func(t *testing.T) {
		within(t, 5*time.Second, "a crashing start", func() {
			_, err := openHostile(ctx, t, "crash")
			wantErrContains(t, "crash", err, ErrStart, "exited before completing go-plugin's handshake", "hostile: crashing at start")
		})
		noneLeft(t)
	})
	t.Run("never completes the handshake", func(t *testing.T) {
		within(t, 5*time.Second, "a silent start with a 1s start timeout", func() {
			_, err := openHostile(ctx, t, "silent", WithStartTimeout(time.Second))
			wantErrContains(t, "silent", err, ErrStart, "did not complete go-plugin's handshake within 1s")
		})
		noneLeft(t)
	})
	t.Run("never speaks on the connection", func(t *testing.T) {
		within(t, 3*time.Second, "a mute plugin with a 1s start timeout", func() {
			_, err := openHostile(ctx, t, "mute", WithStartTimeout(time.Second))
			wantErrContains(t, "mute", err, ErrStart, "completed go-plugin's handshake but not TLS and the gRPC connection within the start timeout of 1s")
		})
		noneLeft(t)
	})
	t.Run("never answers HELLO", func(t *testing.T) {
		within(t, 3*time.Second, "a plugin hanging in HELLO with a 1s start timeout", func() {
			_, err := openHostile(ctx, t, "hang", WithStartTimeout(time.Second))
			wantErrContains(t, "hang", err, ErrStart, "did not answer the ABI handshake (HELLO) within the start timeout of 1s")
		})
		noneLeft(t)
	})
	t.Run("context ends during start", func(t *testing.T) {
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		within(t, 3*time.Second, "a start whose context ends", func() {
			_, err := openHostile(cctx, t, "silent")
			wantErrContains(t, "silent", err, context.DeadlineExceeded)
		})
		noneLeft(t) // killed at once, not at the start timeout
	})
}

func TestHandshakeMismatch(t *testing.T) {
	ctx := context.Background()
	_, err := openHostile(ctx, t, "wrongcookie")
	wantErrContains(t, "wrong magic cookie", err, ErrHandshake, "magic cookie", "DOCKYARD_PLUGIN=", "plugin protocol 2")
	_, err = openHostile(ctx, t, "wrongproto")
	wantErrContains(t, "wrong plugin protocol", err, ErrHandshake, "Dockyard plugin protocol 2", "Plugin version: 3")
	_, err = openHostile(ctx, t, "wrongabi")
	wantErrContains(t, "wrong ABI major", err, abi.ErrIncompatible, fmt.Sprintf("guest speaks ABI 99.%d", abi.Minor),
		fmt.Sprintf("host speaks ABI %d.%d", abi.Major, abi.Minor))
}

func TestChecksum(t *testing.T) {
	ctx := context.Background()
	bin, hostile := binaries(t)
	wrong := sha256.Sum256([]byte("another binary"))
	_, err := Open(ctx, bin, filepath.Join(t.TempDir(), "db"), WithChecksum(wrong[:]))
	wantErrContains(t, "wrong checksum", err, ErrChecksum, "pinned")

	// Open pins the binary's hash: a binary replaced while the store is open is refused at the
	// next start.
	dir := t.TempDir()
	copyFile(t, bin, filepath.Join(dir, "driver"))
	s, err := Open(ctx, filepath.Join(dir, "driver"), filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pid := pidOfRunning(t, s)
	copyFile(t, hostile, filepath.Join(dir, "driver"))
	kill9(t, pid)
	waitReaped(t, pid)
	err = s.Ping(ctx)
	wantErrContains(t, "restart on a replaced binary", err, ErrChecksum, "the binary's sha256 is")
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(to) // a running binary cannot be written in place
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestGarbageFrames(t *testing.T) {
	_, err := openHostile(context.Background(), t, "garbage")
	wantErrContains(t, "garbage answers", err, abi.ErrProtocol)
}

// TestHang: a plugin that never answers is stopped by the caller's deadline, or by the call
// timeout; either way the call fails promptly and the process is killed. The deadline is set
// once the plugin has started (go-plugin logs "using plugin" when it has read the handshake),
// so that a slow start on a loaded machine is not mistaken for the call.
func TestHang(t *testing.T) {
	ctx := context.Background()
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	started := &onRecord{msg: "using plugin", do: func() {
		time.AfterFunc(500*time.Millisecond, func() { cancel(context.DeadlineExceeded) })
	}}
	within(t, 5*time.Second, "a hanging plugin with a 500ms deadline", func() {
		_, err := openHostile(cctx, t, "hang", WithLogger(slog.New(started)))
		wantErrContains(t, "hang with a deadline", err, abi.ErrBroken, "call abandoned", "deadline exceeded")
	})
	within(t, 5*time.Second, "a hanging plugin with a 500ms call timeout", func() {
		_, err := openHostile(ctx, t, "hang", WithCallTimeout(500*time.Millisecond))
		wantErrContains(t, "hang with a call timeout", err, abi.ErrBroken, "no answer within the call timeout of 500ms")
	})
}

// TestMalformedLogRecords: stderr lines that are JSON with non-string hclog members (which
// go-plugin would take for strings, panicking the host) reach the log as text, and the host
// and the plugin go on serving.
func TestMalformedLogRecords(t *testing.T) {
	h := &recorder{}
	s, err := openHostile(context.Background(), t, "badlog", WithLogger(slog.New(h)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v")) }); err != nil {
		t.Fatalf("Update after the malformed records: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for msg := range h.records() {
		if strings.Contains(msg, "malformed plugin log record") {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d malformed records logged as text, want 3; got %v", n, keys(h.records()))
	}
}

// TestLogsForwarded: the plugin's slog records reach the host's logger at their levels.
func TestLogsForwarded(t *testing.T) {
	h := &recorder{}
	s, err := openHostile(context.Background(), t, "logs", WithLogger(slog.New(h)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	want := map[string]slog.Level{
		"hostile debug record": slog.LevelDebug, "hostile info record": slog.LevelInfo,
		"hostile warn record": slog.LevelWarn, "hostile error record": slog.LevelError,
	}
	got := h.records()
	for msg, level := range want {
		r, ok := got[msg]
		if !ok {
			t.Errorf("record %q not forwarded; got %v", msg, keys(got))
			continue
		}
		if r.Level != level {
			t.Errorf("record %q at %v, want %v", msg, r.Level, level)
		}
		attrs := map[string]string{}
		r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
		if attrs["n"] == "" {
			t.Errorf("record %q lost its attribute n: %v", msg, attrs)
		}
	}
	if !h.has("plugin", "hostile-logs") {
		t.Error("records do not name the plugin (attribute plugin=hostile-logs)")
	}
}

// TestPluginEnvironment: a plugin gets none of the host's environment (where applications keep
// their secrets), only TMPDIR and what WithEnv gives it.
func TestPluginEnvironment(t *testing.T) {
	t.Setenv("DOCKYARD_TEST_SECRET", "s3cr3t-value")
	t.Setenv("TMPDIR", t.TempDir())
	h := &recorder{}
	s, err := openHostile(context.Background(), t, "env", WithLogger(slog.New(h)), WithEnv("GIVEN=yes"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	r, ok := h.records()["hostile env"]
	if !ok {
		t.Fatal("the plugin's environment was not logged")
	}
	var environ string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "environ" {
			environ = a.Value.String()
		}
		return true
	})
	got := strings.Split(environ, "\n")
	slices.Sort(got)
	if strings.Contains(environ, "s3cr3t-value") || strings.Contains(environ, "PATH=") {
		t.Errorf("the plugin inherited the host's environment: %q", got)
	}
	for _, want := range []string{"GIVEN=yes", "DOCKYARD_HOSTILE=env", "TMPDIR=" + os.Getenv("TMPDIR")} {
		if !slices.Contains(got, want) {
			t.Errorf("the plugin's environment %q lacks %q", got, want)
		}
	}
}

// TestCloseKillsPluginChildren: a process the plugin started, holding the plugin's output pipe
// (which would keep go-plugin waiting for the end of the plugin's output), does not delay
// Close, and does not outlive it.
func TestCloseKillsPluginChildren(t *testing.T) {
	s, err := openHostile(context.Background(), t, "spawn", quiet)
	if err != nil {
		t.Fatal(err)
	}
	child := waitChild(t, pidOfRunning(t, s))
	within(t, 5*time.Second, "Close", func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	waitGone(t, child, "Close (the plugin's child)")
}

// closeAndCheck closes s, which must end every process of its plugin.
func closeAndCheck(t *testing.T, s store.Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	noneLeft(t)
}

// waitChild waits for the process pid to have started a child, and returns the child's pid.
func waitChild(t testing.TB, pid int) int {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if c := children(pid); len(c) > 0 {
			return c[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d started no child within 5s", pid)
		}
	}
}

// waitRecord waits up to 5s for h to have a record with message msg (a plugin's records arrive
// through its stderr, after Open may have returned) and returns its attributes as strings.
func waitRecord(t testing.TB, h *recorder, msg string) map[string]string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if r, ok := h.records()[msg]; ok {
			attrs := map[string]string{}
			r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
			return attrs
		}
		if time.Now().After(deadline) {
			t.Fatalf("no record %q within 5s; got %q", msg, keys(h.records()))
		}
	}
}

func keys(m map[string]slog.Record) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// recorder is a slog.Handler that keeps every record, with the attributes of With.
// onRecord is a slog handler that calls do once, at the first record whose message is msg.
type onRecord struct {
	msg  string
	do   func()
	once sync.Once
}

func (h *onRecord) Enabled(context.Context, slog.Level) bool { return true }
func (h *onRecord) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.once.Do(h.do)
	}
	return nil
}
func (h *onRecord) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *onRecord) WithGroup(string) slog.Handler      { return h }

type recorder struct {
	mu    sync.Mutex
	recs  []slog.Record
	attrs []slog.Attr
	root  *recorder
}

func (h *recorder) Enabled(context.Context, slog.Level) bool { return true }

func (h *recorder) Handle(_ context.Context, r slog.Record) error {
	root := h.rootOf()
	r = r.Clone()
	r.AddAttrs(h.attrs...)
	root.mu.Lock()
	defer root.mu.Unlock()
	root.recs = append(root.recs, r)
	return nil
}

func (h *recorder) WithAttrs(as []slog.Attr) slog.Handler {
	return &recorder{attrs: append(append([]slog.Attr(nil), h.attrs...), as...), root: h.rootOf()}
}

func (h *recorder) WithGroup(string) slog.Handler { return h }

func (h *recorder) rootOf() *recorder {
	if h.root != nil {
		return h.root
	}
	return h
}

func (h *recorder) records() map[string]slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := map[string]slog.Record{}
	for _, r := range h.recs {
		m[r.Message] = r
	}
	return m
}

func (h *recorder) has(key, value string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.recs {
		found := false
		r.Attrs(func(a slog.Attr) bool {
			found = found || (a.Key == key && a.Value.String() == value)
			return !found
		})
		if found {
			return true
		}
	}
	return false
}

// TestPinnedBinaryCannotBeSwapped: while the binary's path is swapped back and forth between
// the pinned binary (the sqlite plugin) and another (an inmem plugin), every open either
// fails with ErrChecksum or runs the pinned binary: what runs is what was hashed.
func TestPinnedBinaryCannotBeSwapped(t *testing.T) {
	good, bad := binaries(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "driver")
	copyFile(t, good, path+".good")
	copyFile(t, bad, path+".bad")
	copyFile(t, good, path)
	sum, err := checkBinary(path, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	swapped := make(chan struct{})
	go func() {
		defer close(swapped)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			from := path + ".good"
			if i%2 == 1 {
				from = path + ".bad"
			}
			_ = os.Link(from, path+".next")
			_ = os.Rename(path+".next", path)
			time.Sleep(time.Millisecond)
		}
	}()
	defer func() { close(stop); <-swapped }()
	ctx := context.Background()
	opened := 0
	for range 40 {
		s, err := Open(ctx, path, filepath.Join(t.TempDir(), "db"), WithChecksum(sum), quiet)
		if err != nil {
			if !errors.Is(err, ErrChecksum) {
				t.Fatalf("Open failed with %v, want success or ErrChecksum", err)
			}
			continue
		}
		opened++
		info, _ := pdk.InfoOf(s)
		_ = s.Close()
		if info.Name == "inmem" {
			t.Fatalf("after %d opens, the swapped-in binary ran under the pinned checksum", opened)
		}
	}
	t.Logf("%d of 40 opens ran the pinned binary, the others were refused", opened)
}

// TestLogFlood: a plugin that logs 5,000 records at once gets LogBurst of them through, then
// LogRate a second; the rest are dropped, counted in TransportStats.LogsDropped and in a warning.
func TestLogFlood(t *testing.T) {
	h := &recorder{}
	began := time.Now()
	s, err := openHostile(context.Background(), t, "flood", WithLogger(slog.New(h)))
	if err != nil {
		t.Fatal(err)
	}
	count := func() (flood, warnings int) {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, r := range h.recs {
			switch r.Message {
			case "hostile flood":
				flood++
			case "plugin log records dropped: over the rate limit":
				warnings++
			}
		}
		return flood, warnings
	}
	var st pdk.TransportStats
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st = statsOf(t, s)
		if n, _ := count(); int64(n)+st.LogsDropped >= 5000 {
			break
		}
		if time.Now().After(deadline) {
			n, _ := count()
			t.Fatalf("after 10s, %d records forwarded and %d dropped of the plugin's 5,000", n, st.LogsDropped)
		}
	}
	elapsed := time.Since(began)
	n, _ := count()
	if most := LogBurst + int(elapsed.Seconds()*LogRate) + 1; n > most || st.LogsDropped == 0 {
		t.Errorf("%d records forwarded, %d dropped in %v: want at most %d forwarded", n, st.LogsDropped, elapsed, most)
	}
	if err := s.Update(context.Background(), func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v")) }); err != nil {
		t.Fatalf("the host stopped serving after the flood: %v", err)
	}
	// The next record let through (go-plugin's own, as the process exits) says how many were
	// dropped.
	time.Sleep(2 * time.Second / LogRate)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, warnings := count(); warnings == 0 {
		t.Error("no warning said records were dropped")
	}
	noneLeft(t)
}

// TestCrashLoopBackoff: a plugin that dies at every call is restarted three times at once,
// then held back with a doubling pause, in which calls fail at once with ErrCrashLoop.
func TestCrashLoopBackoff(t *testing.T) {
	s, err := openHostile(context.Background(), t, "crashloop", quiet, WithAcceptLoss())
	if err != nil {
		t.Fatal(err)
	}
	var held, lost int
	var heldErr error
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); {
		err := s.Update(context.Background(), func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v")) })
		switch {
		case errors.Is(err, ErrCrashLoop):
			held++
			heldErr = err
			time.Sleep(time.Millisecond) // a retrying application
		case errors.Is(err, abi.ErrBroken):
			lost++
		default:
			t.Fatalf("Update on a plugin that dies at every call: %v", err)
		}
	}
	st := statsOf(t, s)
	// 1 start at open, 3 at once, then pauses of 250 ms, 500 ms and 1 s: 6 or 7 in 2 s.
	if st.Starts > 8 || held == 0 {
		t.Errorf("%d starts in 2s (%d calls lost, %d held back): want at most 8", st.Starts, lost, held)
	}
	if heldErr != nil {
		wantErrContains(t, "held back", heldErr, ErrCrashLoop, `plugin "hostile-crashloop" was lost`, "times in a row", "next start in")
	}
	closeAndCheck(t, s)
	t.Logf("%d starts, %d calls lost, %d held back: %v", st.Starts, lost, held, heldErr)
}

// TestHugeAnswer: a plugin that answers with a 60 MiB frame, past the largest response the ABI
// allows (abi.MaxResponse), is refused from the frame's length, before the host allocates it:
// the call fails saying so, the process is discarded, and the host keeps what it allocated far
// below the frame's size.
func TestHugeAnswer(t *testing.T) {
	s, err := openHostile(context.Background(), t, "huge", quiet)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err = s.View(context.Background(), func(tx store.Tx) error { _, err := tx.Get("ns", "k"); return err })
	runtime.ReadMemStats(&after)
	wantErrContains(t, "a 60 MiB answer", err, abi.ErrBroken, `plugin "hostile-huge"`, "larger than max")
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Errorf("the host allocated %d MiB during the call: the frame was read before it was refused", grew>>20)
	}
	closeAndCheck(t, s)
}

// TestExtraAnswer: a plugin that sends one answer too many is out of step with its requests
// from then on. The next answer carries the sequence number of the request before: the
// process is discarded (the stream cannot be trusted again), and the next call, on a new
// process, is answered in step.
func TestExtraAnswer(t *testing.T) {
	ctx := context.Background()
	s, err := openHostile(ctx, t, "extra", quiet, WithAcceptLoss())
	if err != nil {
		t.Fatal(err)
	}
	put := func(v string) error {
		return s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", []byte(v)) })
	}
	get := func() (string, error) {
		var got string
		err := s.View(ctx, func(tx store.Tx) error {
			v, err := tx.Get("ns", "k")
			got = string(v)
			return err
		})
		return got, err
	}
	if err := put("v1"); err != nil { // answered twice
		t.Fatal(err)
	}
	_, err = get() // gets the extra answer
	wantErrContains(t, "the call after the extra answer", err, abi.ErrBroken, "was answered with the answer to request", "out of step")
	if err := put("v2"); err != nil {
		t.Fatalf("Update on the new process: %v", err)
	}
	if got, err := get(); err != nil || got != "v2" {
		t.Fatalf("Get on the new process = %q, %v; want v2", got, err)
	}
	if st := statsOf(t, s); st.Starts != 2 {
		t.Errorf("%d processes started, want 2 (the out-of-step one discarded)", st.Starts)
	}
	_ = s.Close() // the new process misbehaves at its second request too: Close may say so
	noneLeft(t)
}
