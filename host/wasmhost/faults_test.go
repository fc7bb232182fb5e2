package wasmhost

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/store"
)

func put(t *testing.T, s store.Store, ns, key, value string) {
	t.Helper()
	if err := s.Update(context.Background(), func(tx store.Tx) error {
		return tx.Put(ns, key, []byte(value))
	}); err != nil {
		t.Fatalf("Put %s/%s: %v", ns, key, err)
	}
}

func get(t *testing.T, s store.Store, ns, key string) (string, error) {
	t.Helper()
	var v []byte
	err := s.View(context.Background(), func(tx store.Tx) error {
		var err error
		v, err = tx.Get(ns, key)
		return err
	})
	return string(v), err
}

// wantBroken checks err reports a discarded instance, wrapping kind (if set), and mentions want.
func wantBroken(t *testing.T, err error, kind error, want string) {
	t.Helper()
	switch {
	case err == nil:
		t.Fatalf("no error; want one saying %q", want)
	case !errors.Is(err, abi.ErrBroken):
		t.Fatalf("error %q does not wrap abi.ErrBroken", err)
	case kind != nil && !errors.Is(err, kind):
		t.Fatalf("error %q does not wrap %v", err, kind)
	case !strings.Contains(err.Error(), want):
		t.Fatalf("error %q does not say %q", err, want)
	}
	t.Logf("error: %v", err)
}

// stillWorks checks a store whose instance was discarded: a durable one serves a fresh
// instance; a non-durable one (inmem) lost its data with the instance, so it fails every
// call, loudly, with store.ErrStoreLost (a store opened WithAcceptLoss would go on).
func stillWorks(t *testing.T, s store.Store) {
	t.Helper()
	if info, _ := pdk.InfoOf(s); !info.Caps.Durable {
		if _, err := get(t, s, "ns", "after"); !errors.Is(err, store.ErrStoreLost) {
			t.Fatalf("Get after the fault: %v; want store.ErrStoreLost", err)
		}
		if err := s.Ping(context.Background()); !errors.Is(err, store.ErrStoreLost) {
			t.Fatalf("Ping after the fault: %v; want store.ErrStoreLost", err)
		}
		return
	}
	put(t, s, "ns", "after", "fresh")
	if v, err := get(t, s, "ns", "after"); err != nil || v != "fresh" {
		t.Fatalf("after the fault: Get = %q, %v", v, err)
	}
}

func TestRunawayGuestHitsDeadline(t *testing.T) {
	m := compileBuilt(t, hostileWasm, WithName("hostile"), WithCallTimeout(2*time.Second))
	s := openStore(t, m, "")
	for _, verb := range []string{"loop", "sleep"} {
		start := time.Now()
		_, err := hostileGet(t, s, verb)
		wantBroken(t, err, ErrDeadline, "dockyard_call exceeded its 2s deadline")
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s: the call took %v to stop", verb, d)
		}
		stillWorks(t, s)
	}
}

func TestGuestOutOfMemory(t *testing.T) {
	m := compileBuilt(t, hostileWasm, WithName("hostile"), WithMemoryLimit(64<<20))
	s := openStore(t, m, "")
	_, err := hostileGet(t, s, "alloc")
	wantBroken(t, err, ErrMemoryLimit, "out of memory")
	stillWorks(t, s)
}

func TestOversizeResponse(t *testing.T) {
	m := compileBuilt(t, hostileWasm, WithName("hostile"), WithMaxResponse(MinMaxResponse))
	s := openStore(t, m, "")
	_, err := hostileGet(t, s, "big:7000000")
	wantBroken(t, err, ErrBadResponse, "over the 6291456-byte limit")
	stillWorks(t, s)
}

func TestGuestExit(t *testing.T) {
	_, hostile := sharedModules(t)
	s := openStore(t, hostile, "")
	_, err := hostileGet(t, s, "exit")
	wantBroken(t, err, nil, "guest exited with code 3 in dockyard_call")
	stillWorks(t, s)
}

// TestGuestPanicIsAnError: a Go panic in the guest's driver is recovered by the dispatcher: the
// call fails, the instance and its data live on.
func TestGuestPanicIsAnError(t *testing.T) {
	_, hostile := sharedModules(t)
	s := openStore(t, hostile, "")
	put(t, s, "ns", "k", "v")
	_, err := hostileGet(t, s, "panic")
	if err == nil || !strings.Contains(err.Error(), "hostile driver panics") || errors.Is(err, abi.ErrBroken) {
		t.Fatalf("Get after a guest panic = %v; want the panic as an error, instance kept", err)
	}
	if v, err := get(t, s, "ns", "k"); err != nil || v != "v" {
		t.Fatalf("data after the panic: %q, %v", v, err)
	}
}

// TestTrapMidUpdate: a guest that traps in the middle of an Update fails that Update clearly.
// drivers/inmem is not durable, so its data went with the instance: the store is lost, and
// says so in every later call.
func TestTrapMidUpdate(t *testing.T) {
	_, hostile := sharedModules(t)
	s := openStore(t, hostile, "")
	put(t, s, "ns", "before", "v1")
	err := s.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.Put("ns", "during", []byte("v2")); err != nil {
			return err
		}
		return tx.Put("hostile", "trap", nil)
	})
	wantBroken(t, err, nil, "guest trapped in dockyard_call: wasm error: out of bounds memory access")
	stillWorks(t, s)
	for _, k := range []string{"before", "during"} {
		if _, err := get(t, s, "ns", k); !errors.Is(err, store.ErrStoreLost) {
			t.Errorf("%s after the trap: %v; want ErrStoreLost (inmem data lived in the instance)", k, err)
		}
	}
}

// TestTrapMidUpdateDurable: the same with drivers/buntdb in a data directory: what was
// committed before the trap is there in the fresh instance, the trapped Update is not, and it
// all survives a reopen.
func TestTrapMidUpdateDurable(t *testing.T) {
	_, hostile := sharedModules(t)
	dir := filepath.Join(t.TempDir(), "data")
	s, err := hostile.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "ns", "before", "v1")
	err = s.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.Put("ns", "during", []byte("v2")); err != nil {
			return err
		}
		return tx.Put("hostile", "trap", nil)
	})
	wantBroken(t, err, nil, "guest trapped in dockyard_call")
	check := func(when string) {
		if v, err := get(t, s, "ns", "before"); err != nil || v != "v1" {
			t.Fatalf("%s: committed data = %q, %v", when, v, err)
		}
		if _, err := get(t, s, "ns", "during"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s: the trapped Update's write: %v, want ErrNotFound", when, err)
		}
	}
	check("after the trap")
	stillWorks(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, hostile, dir)
	check("after reopening")
	if v, err := get(t, s, "ns", "after"); err != nil || v != "fresh" {
		t.Fatalf("after reopening: %q, %v", v, err)
	}
}

func TestGuestLogsReachSlog(t *testing.T) {
	rec := &logRecorder{}
	m := compileBuilt(t, hostileWasm, WithName("hostile-log"), WithLogger(slog.New(rec)))
	s := openStore(t, m, "")
	if v, err := hostileGet(t, s, "log"); err != nil || string(v) != "logged" {
		t.Fatalf("log: %q, %v", v, err)
	}
	for _, c := range []struct {
		msg    string
		level  slog.Level
		stream string
	}{
		{"hello from the guest's stdout", slog.LevelInfo, "stdout"},
		{"hello from the guest's stderr", slog.LevelWarn, "stderr"},
	} {
		r, ok := rec.Find(c.msg)
		if !ok {
			t.Fatalf("%q was not logged", c.msg)
		}
		if r.Level != c.level || attr(r, "module") != "hostile-log" || attr(r, "stream") != c.stream {
			t.Errorf("%q logged at %v with module=%q stream=%q", c.msg, r.Level, attr(r, "module"), attr(r, "stream"))
		}
	}
	// A fault is logged too, with the runtime's error.
	hostileGet(t, s, "trap")
	if r, ok := rec.Find("wasm instance discarded"); !ok || !strings.Contains(attr(r, "err"), "out of bounds") {
		t.Errorf("the discarded instance was not logged with its cause")
	}
}
