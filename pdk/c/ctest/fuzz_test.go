package ctest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/internal/testenv"
	"github.com/dockyard/dockyard/pdk/abi"
)

// seedFrames are frames to start fuzzing from: each op alone, random batches, and a few
// malformed ones.
func seedFrames() [][]byte {
	frames := [][]byte{
		request(hello),
		request(begin(1, true), put(1, "ns", "k", []byte("v")), get(1, "ns", "k"), scan(1, "ns", "", "", 10), commit(1)),
		request(begin(2, false), get(2, "ns", "k"), scan(2, "ns", "k", "a", 1), rollback(2), ping),
		request(begin(1, true), del(1, "ns", "k"), rollback(1), closeOp),
		request(begin(1, true), begin(1, true)),
		request(get(7, "ns", "k")),
		append(header(2, 1), 9),
		append(header(1, 3), 1, 2),
		nil,
	}
	g := &gen{rng: rand.New(rand.NewPCG(42, 42)), open: map[uint32]bool{1: true, 2: true}, session: true}
	for range 40 {
		frames = append(frames, g.batch())
	}
	return frames
}

// FuzzFrames sends each input to the C module in wasm as one request of a fresh session
// (HELLO, the input, CLOSE) and checks the answer is exactly what docs/abi.md requires of it:
// a refusal (BAD_FRAME or INCOMPATIBLE) for a frame the Go decoder finds malformed, else one
// result per operation up to the first failure. `go test` runs the seeds;
// `go test -fuzz FuzzFrames ./pdk/c/ctest` explores.
func FuzzFrames(f *testing.F) {
	for _, fr := range seedFrames() {
		f.Add(fr)
	}
	g := newRawGuest(f, cinmemC.bytes(f))
	f.Fuzz(func(t *testing.T, req []byte) {
		g.t = t
		mustParse(t, g.roundTrip(request(hello)), request(hello))
		resp := g.roundTrip(req)
		ops, ok := requestOps(req)
		if !ok {
			ops = nil
		}
		rs, err := parseResponse(resp, ops)
		if err != nil {
			t.Fatalf("request %x: response %x: %v", req, resp, err)
		}
		if ops == nil && rs[0].Status != abi.BadFrame && rs[0].Status != abi.Incompatible {
			t.Fatalf("request %x is malformed but was answered %v", req, rs[0])
		}
		g.roundTrip(request(closeOp))
	})
}

// TestFuzzNative builds the runtime and cinmem natively with libFuzzer, AddressSanitizer and
// UndefinedBehaviorSanitizer (testdata/fuzz.c) and runs it over mutations of the seed frames
// for a few seconds (DOCKYARD_CFUZZ_SECONDS, default 10): any read outside a frame, any
// undefined behaviour, any crash fails the test with the sanitizer's report.
func TestFuzzNative(t *testing.T) {
	requireClang(t) // the same packages bring the native sanitizer runtimes
	dir := t.TempDir()
	probe := filepath.Join(dir, "probe.c")
	os.WriteFile(probe, []byte("#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\n"+
		"int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n"), 0o644)
	sanitize := []string{"-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all"}
	if out, err := exec.Command(artifactbuild.Clang(), append(sanitize, "-o", filepath.Join(dir, "probe"), probe)...).CombinedOutput(); err != nil {
		testenv.Unavailable(t, "clang with libFuzzer and sanitizers (libclang-rt-14-dev)", fmt.Sprintf("%v: %s", err, out))
	}
	bin := filepath.Join(dir, "fuzz")
	args := append(sanitize, "-g", "-O1", "-std=c11", "-Wall", "-Wextra", "-Werror", "-I..", "-I../../../plugins/cinmem", "-o", bin, "testdata/fuzz.c")
	for _, s := range concat(runtimeSrcs, cinmemSrcs) {
		if filepath.Ext(s) == ".c" {
			args = append(args, s)
		}
	}
	if out, err := exec.Command(artifactbuild.Clang(), args...).CombinedOutput(); err != nil {
		t.Fatalf("build the fuzzer: %v\n%s", err, out)
	}
	corpus := filepath.Join(dir, "corpus")
	os.Mkdir(corpus, 0o755)
	for i, fr := range seedFrames() {
		os.WriteFile(filepath.Join(corpus, fmt.Sprintf("seed%03d", i)), fr, 0o644)
	}
	seconds := 10
	if s, err := strconv.Atoi(os.Getenv("DOCKYARD_CFUZZ_SECONDS")); err == nil && s > 0 {
		seconds = s
	}
	cmd := exec.Command(bin, fmt.Sprintf("-max_total_time=%d", seconds), "-max_len=65536", "-timeout=20",
		"-rss_limit_mb=2048", "-print_final_stats=1", "-artifact_prefix="+dir+"/", corpus)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	if err != nil {
		var input string
		if crashes, _ := filepath.Glob(filepath.Join(dir, "crash-*")); len(crashes) > 0 {
			b, _ := os.ReadFile(crashes[0])
			input = fmt.Sprintf("\nthe input (%d bytes): %x", len(b), b[:min(len(b), 4096)])
		}
		t.Fatalf("the fuzzer failed after %v: %v\n%s%s", time.Since(start).Round(time.Millisecond), err, tail(out.Bytes(), 80), input)
	}
	t.Logf("fuzzed for %v:\n%s", time.Since(start).Round(time.Millisecond), tail(out.Bytes(), 12))
}

// tail returns the last n lines of b.
func tail(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
