package autoload_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/host"
	"github.com/dockyard/dockyard/host/autoload"
	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/store"
)

// The child's half: it runs in a process started with DOCKYARD_DRIVERS set, where the
// package's init has loaded the drivers before the test runs.
func TestChild(t *testing.T) {
	if os.Getenv("AUTOLOAD_CHILD") == "" {
		return // the parent's run: TestAutoload starts this one in a child
	}
	ctx := context.Background()
	for _, l := range autoload.Loaded() {
		fmt.Printf("loaded %s\n", l.Name)
	}
	var me *host.ManifestError
	if errors.As(autoload.Err(), &me) {
		fmt.Printf("error %s %s\n", filepath.Base(me.Path), me.Field)
	}
	// The driver is opened by one DRIVER:DSN string, no host call.
	s, err := store.OpenDSN(ctx, "auto-kv:"+os.Getenv("AUTOLOAD_DATA"))
	if err != nil {
		t.Fatalf("OpenDSN: %v", err)
	}
	defer s.Close()
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("ns", "k", []byte("v")) }); err != nil {
		t.Fatalf("Update: %v", err)
	}
	fmt.Println("opened auto-kv")
	// A module that is no driver was registered (nothing was compiled at start-up); its
	// first open is the error, naming the manifest's artifact.
	_, err = store.Open(ctx, "auto-bad", "")
	if errors.As(err, &me) {
		fmt.Printf("open error %s %s\n", filepath.Base(me.Path), me.Field)
	}
}

// TestAutoload: a program that imports the package opens the drivers of $DOCKYARD_DRIVERS by
// name; a bad manifest is reported by Err and keeps no other driver from loading; nothing is
// compiled before a driver's first open.
func TestAutoload(t *testing.T) {
	wasm, err := artifactbuild.Build("../../plugins/inmem")
	if err != nil {
		t.Fatal(err)
	}
	code, err := os.ReadFile(wasm)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	notDriver := []byte("\x00asm\x01\x00\x00\x00") // a valid, empty module
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("kv.wasm", code)
	write("empty.wasm", notDriver)
	manifest := func(name, artifact string, sum []byte) []byte {
		return fmt.Appendf(nil, `{"name": %q, "transport": "wasm", "artifact": %q, "sha256": %q, "abi": "1.0"}`,
			name, artifact, hex.EncodeToString(sum))
	}
	kvSum, emptySum := sha256.Sum256(code), sha256.Sum256(notDriver)
	write("kv.json", manifest("auto-kv", "kv.wasm", kvSum[:]))
	write("bad.json", manifest("auto-bad", "empty.wasm", emptySum[:]))
	write("typo.json", manifest("auto-typo", "kv.wasm", emptySum[:])) // wrong sha256

	cmd := exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "AUTOLOAD_CHILD=1", host.EnvDrivers+"="+dir, "AUTOLOAD_DATA="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s\n%s", err, out, stderr.String())
	}
	for _, want := range []string{"loaded auto-bad\n", "loaded auto-kv\n", "error typo.json sha256\n",
		"opened auto-kv\n", "open error bad.json artifact\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("child printed\n%s\nwant a line %q", out, want)
		}
	}
	if strings.Contains(string(out), "loaded auto-typo") {
		t.Errorf("the manifest with a wrong sha256 was loaded:\n%s", out)
	}
	// The bad manifest was logged at start-up, naming the file.
	if !strings.Contains(stderr.String()+string(out), "typo.json") {
		t.Errorf("no warning named typo.json:\n%s", stderr.String())
	}
}
