package buntdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	bunt "github.com/tidwall/buntdb"

	"github.com/dockyard/dockyard/store"
)

// state is a store's whole content, (ns, key) encoded as one string.
type state map[string]string

func pk(ns, key string) string { return ns + "\x00\x01" + key }

// dump reads the whole content of the store in dir through the driver.
func dump(t *testing.T, dir string) state {
	t.Helper()
	drv, err := NewDriver(dir, WithCompactMinSize(-1))
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	defer func() {
		if err := drv.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}()
	return dumpDB(t, drv.(*driver).db)
}

func dumpDB(t *testing.T, db *bunt.DB) state {
	t.Helper()
	st := state{}
	err := db.View(func(tx *bunt.Tx) error {
		return tx.Ascend("", func(k, v string) bool {
			if isMeta(k) {
				return true
			}
			ns, key, ok := decodeKey(k)
			if !ok {
				t.Errorf("undecodable key %q", k)
			}
			if ns == store.NamespaceCatalog {
				return true // the adapter's bookkeeping, not the test's data
			}
			st[pk(ns, key)] = v
			return true
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// op is one write of a test transaction; del deletes.
type op struct {
	ns, key, value string
	del            bool
}

// history commits txns to a new store in dir and returns the file's size and the store's
// content after each commit (index 0: before the first).
func history(t *testing.T, dir string, txns [][]op) (sizes []int64, states []state) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, dir, WithCompactMinSize(-1))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	size := func() int64 {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	cur := state{}
	sizes, states = []int64{size()}, []state{maps.Clone(cur)}
	for _, ops := range txns {
		err := s.Update(ctx, func(tx store.Tx) error {
			for _, o := range ops {
				var err error
				if o.del {
					err = tx.Delete(o.ns, o.key)
				} else {
					err = tx.Put(o.ns, o.key, []byte(o.value))
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range ops {
			if o.del {
				delete(cur, pk(o.ns, o.key))
			} else {
				cur[pk(o.ns, o.key)] = o.value
			}
		}
		sizes, states = append(sizes, size()), append(states, maps.Clone(cur))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return sizes, states
}

func smallTxns(r *rand.Rand, n int) [][]op {
	var txns [][]op
	for i := range n {
		var ops []op
		for j := range 3 + r.IntN(3) {
			ops = append(ops, op{ns: "ns", key: fmt.Sprintf("k%d", r.IntN(8)), value: strings.Repeat(string(rune('a'+i%26)), 20+r.IntN(150)) + fmt.Sprint(j)})
		}
		if i > 0 {
			ops = append(ops, op{ns: "ns", key: fmt.Sprintf("k%d", r.IntN(8)), del: true})
		}
		txns = append(txns, ops)
	}
	return txns
}

func writeFile(t *testing.T, dir string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, FileName), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// lastAtOrBefore returns the index of the last size <= cut.
func lastAtOrBefore(sizes []int64, cut int64) int {
	i := 0
	for j, s := range sizes {
		if s <= cut {
			i = j
		}
	}
	return i
}

// TestTornTransactionsAreDropped cuts a file at every byte of its last transactions, and
// also follows each cut with zeros and with junk, as a crash can leave it: every open must
// find exactly the transactions that were complete before the cut.
func TestTornTransactionsAreDropped(t *testing.T) {
	src := t.TempDir()
	r := rand.New(rand.NewPCG(7, 8))
	sizes, states := history(t, src, smallTxns(r, 6))
	data, err := os.ReadFile(filepath.Join(src, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) != sizes[len(sizes)-1] {
		t.Fatalf("file is %d bytes, last commit left %d", len(data), sizes[len(sizes)-1])
	}
	dir := t.TempDir()
	tails := map[string]func(cut int) []byte{
		"cut":   func(cut int) []byte { return data[:cut] },
		"zeros": func(cut int) []byte { return append(bytes.Clone(data[:cut]), make([]byte, 4096)...) },
		"junk":  func(cut int) []byte { return append(bytes.Clone(data[:cut]), "*3\r\n$3\r\nset\r\n$9999"...) },
	}
	for name, tail := range tails {
		// Every cut point of the last transaction for plain cuts; a sample otherwise.
		step := func(cut int) int {
			if name == "cut" && cut >= int(sizes[len(sizes)-2]) {
				return 1
			}
			return 7
		}
		for cut := int(sizes[len(sizes)-3]); cut <= len(data); cut += step(cut) {
			writeFile(t, dir, tail(cut))
			want := states[lastAtOrBefore(sizes, int64(cut))]
			if got := dump(t, dir); !maps.Equal(got, want) {
				t.Fatalf("%s at %d of %d bytes: store holds %d entries, want %d (the transactions before the cut)", name, cut, len(data), len(got), len(want))
			}
			// The torn bytes are gone from the file, and what is left reopens unchanged.
			got, _ := os.ReadFile(filepath.Join(dir, FileName))
			if wantLen := sizes[lastAtOrBefore(sizes, int64(cut))]; int64(len(got)) != wantLen {
				t.Fatalf("%s at %d: file is %d bytes after recovery, want %d", name, cut, len(got), wantLen)
			}
		}
	}
	// A cut inside the header is a store whose creation was cut short: it opens empty.
	for cut := range len(header) {
		writeFile(t, dir, data[:cut])
		if got := dump(t, dir); len(got) != 0 {
			t.Fatalf("header cut at %d: store holds %d entries, want none", cut, len(got))
		}
	}
}

// TestBuntdbAloneKeepsTornTransactions shows why the driver frames transactions: buntdb on its
// own, given a file cut between two records of one transaction, loads the first part of it.
func TestBuntdbAloneKeepsTornTransactions(t *testing.T) {
	src := t.TempDir()
	txns := [][]op{{{ns: "ns", key: "a", value: "1"}}, {{ns: "ns", key: "b", value: "2"}, {ns: "ns", key: "c", value: "3"}, {ns: "ns", key: "d", value: "4"}}}
	sizes, _ := history(t, src, txns)
	data, _ := os.ReadFile(filepath.Join(src, FileName))
	// The last user record of the file starts inside the last transaction.
	w := newWalker(bytes.NewReader(data))
	var lastStart int64
	for {
		rec, err := w.record()
		if err != nil {
			break
		}
		if !isMeta(rec.key) {
			lastStart = rec.start
		}
	}
	if lastStart <= sizes[1] {
		t.Fatalf("last record at %d, not inside the last transaction (%d..%d)", lastStart, sizes[1], sizes[2])
	}
	cut := filepath.Join(t.TempDir(), "cut.db")
	if err := os.WriteFile(cut, data[:lastStart], 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bunt.Open(cut)
	if err != nil {
		t.Fatal(err)
	}
	plain := dumpDB(t, db)
	_ = db.Close()
	if n := len(plain); n <= 1 || n >= 4 {
		t.Fatalf("buntdb alone loaded %d entries: expected part of the last transaction", n)
	}
	dir := t.TempDir()
	writeFile(t, dir, data[:lastStart])
	if got := dump(t, dir); len(got) != 1 {
		t.Fatalf("driver loaded %d entries from the cut file, want 1 (the first transaction only)", len(got))
	}
}

func TestDamageInTheMiddleIsAnError(t *testing.T) {
	src := t.TempDir()
	r := rand.New(rand.NewPCG(9, 10))
	sizes, _ := history(t, src, smallTxns(r, 4))
	data, _ := os.ReadFile(filepath.Join(src, FileName))
	mid := int(sizes[1]) + 10 // inside the second transaction
	cases := map[string][]byte{
		"garbage":    append(append(bytes.Clone(data[:mid]), "GARBAGE"...), data[mid+7:]...),
		"zeros":      append(append(bytes.Clone(data[:mid]), make([]byte, 7)...), data[mid+7:]...),
		"huge bulk":  afterHeader(data, func(b []byte) []byte { return bytes.Replace(b, []byte("$3\r\nset"), []byte("$999999999999\r\n"), 1) }),
		"bad length": afterHeader(data, func(b []byte) []byte { return bytes.Replace(b, []byte("$3\r\nset"), []byte("$-3\r\nset"), 1) }),
		"two commits": func() []byte {
			// A second commit record after the first record of the second transaction.
			w := newWalker(bytes.NewReader(data[sizes[1]:]))
			if _, err := w.record(); err != nil {
				t.Fatal(err)
			}
			at := sizes[1] + w.off
			return append(append(bytes.Clone(data[:at]), appendSet(nil, commitKey, "99")...), data[at:]...)
		}(),
	}
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	for name, bad := range cases {
		writeFile(t, dir, bad)
		drv, err := NewDriver(dir)
		if err == nil {
			_ = drv.Close()
			t.Errorf("%s: open succeeded", name)
			continue
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error does not name the file %s: %v", name, path, err)
		}
		if !errors.Is(err, errDamaged) {
			t.Errorf("%s: error does not wrap errDamaged: %v", name, err)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(after, bad) {
			t.Errorf("%s: the damaged file was changed", name)
		}
		t.Logf("%s: %v", name, err)
	}
}

func afterHeader(data []byte, edit func([]byte) []byte) []byte {
	return append(bytes.Clone(header), edit(bytes.Clone(data[len(header):]))...)
}

func TestForeignFilesAreRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	plain, err := bunt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.Update(func(tx *bunt.Tx) error { _, _, err := tx.Set("k", "v", nil); return err }); err != nil {
		t.Fatal(err)
	}
	_ = plain.Close()
	newer := bytes.Replace(header, []byte(formatValue), []byte(formatName+" 2"), 1)
	for name, content := range map[string][]byte{
		"plain buntdb": nil, // as written above
		"text":         []byte("hello, world\n"),
		"newer format": newer,
		"binary":       {0x00, 0x01, 0xff, 0xfe},
	} {
		if content != nil {
			writeFile(t, dir, content)
		}
		before, _ := os.ReadFile(path)
		drv, err := NewDriver(dir)
		if err == nil {
			_ = drv.Close()
			t.Errorf("%s: open succeeded", name)
			continue
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error does not name %s: %v", name, path, err)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
			t.Errorf("%s: the file was changed", name)
		}
		t.Logf("%s: %v", name, err)
	}
}

// TestMutatedFilesNeverPanic opens many randomly damaged copies of a real file: each open
// either fails with an error or yields a store that works.
func TestMutatedFilesNeverPanic(t *testing.T) {
	src := t.TempDir()
	r := rand.New(rand.NewPCG(11, 12))
	history(t, src, smallTxns(r, 5))
	data, _ := os.ReadFile(filepath.Join(src, FileName))
	dir := t.TempDir()
	rounds := 400
	if testing.Short() {
		rounds = 50
	}
	for range rounds {
		bad := bytes.Clone(data)
		switch r.IntN(3) {
		case 0:
			for range 1 + r.IntN(4) {
				bad[r.IntN(len(bad))] = byte(r.IntN(256))
			}
		case 1:
			i := r.IntN(len(bad))
			bad = append(bad[:i], bad[i+1+r.IntN(min(20, len(bad)-i)):]...)
		case 2:
			i := r.IntN(len(bad))
			bad = append(bad[:i], append([]byte("\r\n$*0\x00"[r.IntN(6):]), bad[i:]...)...)
		}
		writeFile(t, dir, bad)
		drv, err := NewDriver(dir)
		if err != nil {
			continue
		}
		_ = drv.(*driver).db.View(func(tx *bunt.Tx) error {
			return tx.Ascend("", func(k, v string) bool { return true })
		})
		if err := drv.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzRecoverFile checks that whatever recovery accepts, buntdb loads without error: the walk
// is at least as strict as buntdb's reader, so buntdb never meets damage (on which it could
// allocate a garbage length, or index an empty command).
func FuzzRecoverFile(f *testing.F) {
	f.Add([]byte{})
	f.Add(header)
	f.Add(append(bytes.Clone(header), appendSet(appendSet(nil, "a\x00\x01k", "v"), commitKey, commitValue(2, setCRC("a\x00\x01k", []byte("v"))))...))
	f.Add(append(bytes.Clone(header), "*2\r\n$3\r\ndel\r\n$1\r\nk\r\n"+string(appendSet(nil, commitKey, commitValue(2, delCRC("k"))))...))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), FileName)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		file, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = recoverFile(file, path)
		_ = file.Close()
		if err != nil {
			return
		}
		db, err := bunt.Open(path)
		if err != nil {
			t.Fatalf("recovery accepted a file buntdb refuses: %v", err)
		}
		_ = db.Close()
	})
}

func TestBinaryValuesSurviveReopenAndCompaction(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(13, 14))
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	big := make([]byte, store.MaxValueSize)
	for i := range big {
		big[i] = byte(r.Uint32())
	}
	want := state{
		pk("ns", "all-bytes"):          string(all),
		pk("ns", "empty"):              "",
		pk("ns", "resp\r\n$3\r\nset"):  "*3\r\n$3\r\nset\r\n$1\r\nx\r\n$1\r\ny\r\n",
		pk("ns", "big"):                string(big),
		pk("\x00\xff", "\x00"):         "\x00",
		pk("\xff", "\xff\xff"):         "\xff\r",
		pk("ns\x00\x01", "k\x00\x02"):  "\n",
		pk("ns", "nul-prefixed\x00\r"): "\x00\x00\x00\r\n",
	}
	put := func(s store.Store, w state) {
		t.Helper()
		err := s.Update(ctx, func(tx store.Tx) error {
			for k, v := range w {
				ns, key, _ := strings.Cut(k, "\x00\x01")
				if strings.HasPrefix(k, "ns\x00\x01\x00\x01") {
					ns, key = "ns\x00\x01", strings.TrimPrefix(k, "ns\x00\x01\x00\x01")
				}
				if err := tx.Put(ns, key, []byte(v)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	put(s, want)
	// Two more copies of everything, so compaction has something to drop: it is due above twice
	// the live size, and two copies alone are exactly twice.
	put(s, want)
	put(s, want)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := dump(t, dir); !maps.Equal(got, want) {
		t.Fatalf("after reopen: content differs (%d entries, want %d)", len(got), len(want))
	}
	before, _ := os.Stat(filepath.Join(dir, FileName))
	drv, err := NewDriver(dir, WithCompactMinSize(0)) // compacts on open
	if err != nil {
		t.Fatal(err)
	}
	_ = drv.Close()
	after, _ := os.Stat(filepath.Join(dir, FileName))
	if after.Size() >= before.Size()*3/4 {
		t.Fatalf("compaction on open left %d bytes of %d", after.Size(), before.Size())
	}
	if got := dump(t, dir); !maps.Equal(got, want) {
		t.Fatalf("after compaction: content differs (%d entries, want %d)", len(got), len(want))
	}
}

func TestCompactionBoundsTheFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	s, err := Open(ctx, dir, WithCompactMinSize(16<<10))
	if err != nil {
		t.Fatal(err)
	}
	want := state{}
	value := bytes.Repeat([]byte("v"), 1000)
	var largest int64
	shrank := false
	for i := range 600 {
		key := fmt.Sprintf("k%02d", i%10)
		err := s.Update(ctx, func(tx store.Tx) error {
			if i%7 == 0 {
				delete(want, pk("ns", key))
				return tx.Delete("ns", key)
			}
			want[pk("ns", key)] = string(value) + fmt.Sprint(i)
			return tx.Put("ns", key, append(value, fmt.Sprint(i)...))
		})
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() < largest {
			shrank = true
		}
		largest = max(largest, st.Size())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !shrank || largest > 64<<10 {
		t.Fatalf("file reached %d bytes (shrank: %v); 600 writes of 1 KB to 10 keys should stay below 64 KiB", largest, shrank)
	}
	if _, err := os.Stat(filepath.Join(dir, compactName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("compaction file left behind: %v", err)
	}
	if got := dump(t, dir); !maps.Equal(got, want) {
		t.Fatalf("after compactions: %d entries, want %d", len(got), len(want))
	}
	// A compaction file left by a crash is removed on open; the store is as it was.
	if err := os.WriteFile(filepath.Join(dir, compactName), []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := dump(t, dir); !maps.Equal(got, want) {
		t.Fatalf("with a stale compaction file: %d entries, want %d", len(got), len(want))
	}
	if _, err := os.Stat(filepath.Join(dir, compactName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale compaction file not removed: %v", err)
	}
}

func TestDataDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, dir := range map[string]string{
		"empty":   "",
		"missing": filepath.Join(t.TempDir(), "missing"),
		"file":    file,
		"nul":     "a\x00b",
	} {
		drv, err := NewDriver(dir)
		if err == nil {
			_ = drv.Close()
			t.Errorf("%s: NewDriver(%q) succeeded", name, dir)
			continue
		}
		t.Logf("%s: %v", name, err)
	}
	if _, err := os.Stat(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the missing directory was created")
	}
}

func TestPingReportsAMissingFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, FileName)); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err == nil || !strings.Contains(err.Error(), FileName) {
		t.Fatalf("Ping with the database file removed: %v", err)
	}
}

// TestMisuseDoesNotBlock begins transactions the adapter never would: the driver must refuse,
// not wait on buntdb's lock.
func TestMisuseDoesNotBlock(t *testing.T) {
	ctx := context.Background()
	drv, err := NewDriver(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		w, err := drv.Begin(ctx, true)
		if err != nil {
			t.Error(err)
			return
		}
		if _, err := drv.Begin(ctx, false); !errors.Is(err, errMisuse) {
			t.Errorf("read beside a write: %v", err)
		}
		if _, err := drv.Begin(ctx, true); !errors.Is(err, errMisuse) {
			t.Errorf("two writes: %v", err)
		}
		_ = w.Rollback()
		r1, _ := drv.Begin(ctx, false)
		r2, err := drv.Begin(ctx, false)
		if err != nil {
			t.Errorf("second reader: %v", err)
			return
		}
		if _, err := drv.Begin(ctx, true); !errors.Is(err, errMisuse) {
			t.Errorf("write beside reads: %v", err)
		}
		_ = r1.Rollback()
		_ = r2.Rollback()
		w, err = drv.Begin(ctx, true)
		if err != nil {
			t.Errorf("write after the reads ended: %v", err)
			return
		}
		_ = w.Rollback()
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the driver blocked")
	}
}

// TestReadHandlesShareOneReadLock holds a read handle open across buntdb's background tick,
// which queues for the write lock; a second read handle must still begin at once.
func TestReadHandlesShareOneReadLock(t *testing.T) {
	ctx := context.Background()
	drv, err := NewDriver(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	r1, err := drv.Begin(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond) // buntdb's ticker fires and waits for the write lock
	got := make(chan error, 1)
	go func() {
		r2, err := drv.Begin(ctx, false)
		if err == nil {
			_, err = r2.Get(ctx, "ns", "k")
			if errors.Is(err, store.ErrNotFound) {
				err = nil
			}
			_ = r2.Rollback()
		}
		got <- err
	}()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a second read handle blocked behind buntdb's background goroutine")
	}
	_ = r1.Rollback()
}

func backgroundGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "created by github.com/tidwall/buntdb.Open")
		}
		buf = make([]byte, 2*len(buf))
	}
}

func waitGoroutines(t *testing.T, want int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for backgroundGoroutines() != want {
		if time.Now().After(deadline) {
			t.Fatalf("%d buntdb background goroutines after %v, want %d", backgroundGoroutines(), within, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCloseStopsTheBackgroundGoroutine: buntdb's goroutine exits at its first tick after Close.
func TestCloseStopsTheBackgroundGoroutine(t *testing.T) {
	waitGoroutines(t, 0, 5*time.Second) // those of earlier tests
	drv, err := NewDriver(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if n := backgroundGoroutines(); n != 1 {
		t.Fatalf("%d background goroutines with one store open", n)
	}
	if err := drv.Close(); err != nil {
		t.Fatal(err)
	}
	waitGoroutines(t, 0, 3*time.Second)
}

// TestRecordCRCs checks the CRCs a transaction computes for its records match the bytes buntdb
// writes for them, and that a hand-made file of such records recovers whole.
func TestRecordCRCs(t *testing.T) {
	for _, kv := range [][2]string{{"k", "v"}, {"", ""}, {"a\x00\x01\r\n", strings.Repeat("\xff", 70000)}} {
		if got, want := setCRC(kv[0], []byte(kv[1])), crc32.Checksum(appendSet(nil, kv[0], kv[1]), castagnoli); got != want {
			t.Errorf("setCRC(%q): %08x, want %08x", kv[0], got, want)
		}
		del := append(append([]byte("*2\r\n$3\r\ndel\r\n"), appendBulkHeader(nil, len(kv[0]))...), kv[0]+"\r\n"...)
		if got, want := delCRC(kv[0]), crc32.Checksum(del, castagnoli); got != want {
			t.Errorf("delCRC(%q): %08x, want %08x", kv[0], got, want)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	body := append(bytes.Clone(header), "*2\r\n$3\r\ndel\r\n$1\r\nk\r\n"...)
	body = appendSet(body, "a\x00\x01b", "c")
	body = appendSet(body, commitKey, commitValue(3, delCRC("k")+setCRC("a\x00\x01b", []byte("c"))))
	writeFile(t, dir, body)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rc, err := recoverFile(f, path)
	if err != nil || rc.txns != 1 || rc.truncated != 0 || rc.end != int64(len(body)) {
		t.Fatalf("recoverFile: %v, %v", rc, err)
	}
}
