package wasmhost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/dockyard/dockyard/internal/wasmbinding"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/store"
)

// hostileGet asks the hostile guest to do what key says, in a View, and returns its answer.
func hostileGet(t *testing.T, s store.Store, key string) ([]byte, error) {
	t.Helper()
	var v []byte
	err := s.View(context.Background(), func(tx store.Tx) error {
		var err error
		v, err = tx.Get("hostile", key)
		return err
	})
	return v, err
}

func openStore(t *testing.T, m *Module, dsn string) store.Store {
	t.Helper()
	s, err := m.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open(%q): %v", dsn, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestSymlinkEscapeIsRefused: a guest that plants symlinks in its data directory pointing
// outside it (wazero issue #2321) cannot read through them.
func TestSymlinkEscapeIsRefused(t *testing.T) {
	_, hostile := sharedModules(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	secret := filepath.Join(dir, "secret.txt")
	if err := os.WriteFile(secret, []byte("TOP SECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, hostile, data)
	for _, key := range []string{
		"symlink:../secret.txt",       // relative, out of the directory
		"symlink:" + secret,           // absolute host path
		"symlink:/data/../secret.txt", // absolute guest path climbing out
		"symlink:../data/../../" + filepath.Base(dir) + "/secret.txt", // roundabout
		"read:/data/../secret.txt",                                    // no symlink at all
		"read:../secret.txt",
	} {
		v, err := hostileGet(t, s, key)
		if strings.Contains(string(v), "SECRET") || (err != nil && strings.Contains(err.Error(), "SECRET")) {
			t.Fatalf("%s: the guest read the secret: %q, %v", key, v, err)
		}
		if err == nil {
			t.Fatalf("%s: the guest read %q and no error", key, v)
		}
		if strings.HasPrefix(key, "symlink:") && !strings.Contains(strings.ToLower(err.Error()), "operation not permitted") {
			t.Errorf("%s: error %q does not say the operation was not permitted", key, err)
		}
		t.Logf("%s: %v", key, err)
	}
	// The guest did create its link, in its own directory; it just cannot follow it out.
	if target, err := os.Readlink(filepath.Join(data, "link")); err != nil || !strings.Contains(target, "secret.txt") {
		t.Errorf("the guest's symlink is not in the data directory: %q, %v", target, err)
	}
	// Inside the directory, the filesystem works.
	if _, err := hostileGet(t, s, "write:/data/own.txt"); !errors.Is(err, store.ErrNotFound) && err != nil {
		t.Fatalf("writing inside /data: %v", err)
	}
	if v, err := hostileGet(t, s, "symlink:own.txt"); err != nil || string(v) != "written by the guest" {
		t.Fatalf("reading through an inside symlink = %q, %v", v, err)
	}
}

// TestNoFilesystemWithoutDSN: a store opened with an empty DSN gives the guest no filesystem.
func TestNoFilesystemWithoutDSN(t *testing.T) {
	_, hostile := sharedModules(t)
	s := openStore(t, hostile, "")
	for _, key := range []string{"readdir:/", "readdir:/data", "read:/etc/passwd", "write:/data/x", "write:/tmp/x", "readdir:."} {
		v, err := hostileGet(t, s, key)
		if err == nil {
			t.Fatalf("%s: succeeded with %q; the guest has a filesystem", key, v)
		}
		if strings.Contains(err.Error(), "root:") {
			t.Fatalf("%s: leaked host data: %v", key, err)
		}
	}
}

// TestGuestEnvironment: real clocks, a real random source, no arguments or environment.
func TestGuestEnvironment(t *testing.T) {
	_, hostile := sharedModules(t)
	s := openStore(t, hostile, "")
	v, err := hostileGet(t, s, "clock")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(v); len(got) < 18 || got[:8] == "00000000" {
		t.Fatalf("guest clock = %q", got)
	}
	r1, err1 := hostileGet(t, s, "rand")
	r2, err2 := hostileGet(t, s, "rand")
	if err := errors.Join(err1, err2); err != nil || string(r1) == string(r2) || strings.Trim(string(r1), "0") == "" {
		t.Fatalf("guest random = %q, %q, %v", r1, r2, err)
	}
	want := fmt.Sprintf("%s=%d", wasmbinding.MemoryLimitEnv, DefaultMemoryLimit)
	if v, err := hostileGet(t, s, "env"); err != nil || string(v) != want {
		t.Fatalf("guest args and environment = %q, %v; want only %s", v, err, want)
	}
}

// TestDataDirectoryLock: two stores never have one data directory open at once.
func TestDataDirectoryLock(t *testing.T) {
	inmem, hostile := sharedModules(t)
	dir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	s1, err := hostile.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Module{hostile, inmem} {
		s2, err := m.Open(ctx, dir)
		if err == nil {
			s2.Close()
			t.Fatalf("second Open of %s succeeded", dir)
		}
		if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), dir) {
			t.Fatalf("second Open: %v; want ErrLocked naming %s", err, dir)
		}
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	s3, err := inmem.Open(ctx, dir)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s3.Close()
}

// TestOpenFile: the one-call Open compiles the file, and the store owns (and closes) the module.
func TestOpenFile(t *testing.T) {
	inmemWasm.bytes(t)
	path, err := artifactbuild.Build(inmemWasm.dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	quiet := WithLogger(slog.New(slog.DiscardHandler))
	d, err := NewDriver(ctx, path, "", quiet)
	if err != nil {
		t.Fatal(err)
	}
	if info := d.Info(); info.Name != "inmem" || info.Caps.Durable || !info.Caps.ConcurrentReaders {
		t.Errorf("Info = %+v", info)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if owned := d.(*driver).owned; owned == nil || !owned.closed.Load() {
		t.Error("closing the driver did not close the module it compiled")
	}
	s, err := Open(ctx, path, filepath.Join(t.TempDir(), "data"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "ns", "k", "v")
	if v, err := get(t, s, "ns", "k"); err != nil || v != "v" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "missing.wasm"), ""); err == nil {
		t.Fatal("Open of a missing file succeeded")
	}
}

// TestGuestGoroutinesRun: in a reactor, Go code runs only inside calls from the host, so the
// guest's other goroutines (the garbage collector's mark worker first) run only when a call
// yields; pdk/wasmguest yields after every 16 KiB of frames.
func TestGuestGoroutinesRun(t *testing.T) {
	_, hostile := sharedModules(t)
	s := openStore(t, hostile, "")
	if v, err := hostileGet(t, s, "spawn"); err != nil || string(v) != "spawned" {
		t.Fatalf("spawn: %q, %v", v, err)
	}
	if v, err := hostileGet(t, s, "turns"); err != nil || string(v) != "0" {
		t.Fatalf("the guest's goroutine has had %s turns (%v) before any yield; want 0", v, err)
	}
	put(t, s, "ns", "big", string(make([]byte, 20<<10))) // past the yield threshold
	if v, err := hostileGet(t, s, "turns"); err != nil || string(v) == "0" {
		t.Fatalf("the guest's goroutine has had %s turns (%v); want some", v, err)
	}
}

// TestDiskQuotaBuntDB: the buntdb guest, writing past its data directory's quota, gets an
// error it reports for that Update; the host goes on serving the store, and reads still work.
func TestDiskQuotaBuntDB(t *testing.T) {
	m := compileBuilt(t, buntdbWasm, WithName("buntdb"), WithDiskQuota(1<<20), WithLogger(slog.New(slog.DiscardHandler)))
	s, err := m.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	value := bytes.Repeat([]byte("v"), 64<<10)
	var failed error
	for i := 0; i < 64 && failed == nil; i++ {
		failed = s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", fmt.Sprintf("k%03d", i), value) })
	}
	if failed == nil {
		t.Fatal("64 writes of 64 KiB went into a 1 MiB quota")
	}
	if !strings.Contains(failed.Error(), "I/O error") {
		t.Errorf("the write past the quota failed with %v, want the guest's I/O error", failed)
	}
	if err := s.View(ctx, func(tx store.Tx) error { _, err := tx.Get("ns", "k000"); return err }); err != nil {
		t.Errorf("a read after the quota was reached: %v", err)
	}
}

// TestMemoryGrowthCostsNoCopies: a guest growing its memory page by page to 128 MiB makes the
// host allocate next to nothing on its heap (wazero's own memory copied the whole memory at
// each growth past its capacity, 1.1 GiB of RSS for a 256 MiB cap), and the pages it grew
// into are given back when the instance goes.
func TestMemoryGrowthCostsNoCopies(t *testing.T) {
	grow := bytes.Repeat(cat(i32c(1), []byte{0x40, 0x00, 0x1a}), 2047) // memory.grow 1; drop
	m, _ := compileGen(t, binding(1, nil, cat(grow, echo)), WithMemoryLimit(256<<20))
	tr := newTestTransport(t, m, "")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := tr.RoundTrip(context.Background(), []byte("grow")); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if pages := tr.inst.mod.Memory().Size() / wasmPageSize; pages != 2048 {
		t.Fatalf("the guest's memory has %d pages, want 2048", pages)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
		t.Errorf("growing the guest's memory to 128 MiB allocated %d MiB on the host's heap", grew>>20)
	}
}
