//go:build wasip1

// Command hostile is a wasm driver module that misbehaves on demand, for host/wasmhost's sandbox
// and fault tests. It serves drivers/inmem (no DSN) or drivers/buntdb (a DSN), except that a
// Get or Put in the namespace "hostile" does what its key says instead.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/dockyard/dockyard/drivers/buntdb"
	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/pdk/wasmguest"
	"github.com/dockyard/dockyard/store"
)

func init() {
	wasmguest.Serve(func(ctx context.Context, h abi.Hello) (pdk.Driver, error) {
		if h.DSN == "" {
			return &driver{Driver: inmem.NewDriver()}, nil
		}
		d, err := buntdb.NewDriver(h.DSN)
		if err != nil {
			return nil, err
		}
		return &driver{Driver: d, dsn: h.DSN}, nil
	})
}

func main() {}

type driver struct {
	pdk.Driver
	dsn string
}

func (d *driver) Begin(ctx context.Context, writable bool) (pdk.Txn, error) {
	tx, err := d.Driver.Begin(ctx, writable)
	if err != nil {
		return nil, err
	}
	return &txn{Txn: tx, d: d}, nil
}

type txn struct {
	pdk.Txn
	d *driver
}

func (t *txn) Get(ctx context.Context, ns, key string) ([]byte, error) {
	if ns == "hostile" {
		return t.d.misbehave(key)
	}
	return t.Txn.Get(ctx, ns, key)
}

func (t *txn) Put(ctx context.Context, ns, key string, value []byte) error {
	if ns == "hostile" {
		_, err := t.d.misbehave(key)
		return err
	}
	return t.Txn.Put(ctx, ns, key, value)
}

var (
	hog   [][]byte
	turns atomic.Int64
)

// misbehave does what key says. Keys with an argument are "verb:argument".
func (d *driver) misbehave(key string) ([]byte, error) {
	verb, arg, _ := strings.Cut(key, ":")
	switch verb {
	case "symlink": // symlink:target - make /data/link point at target and read through it
		os.Remove("/data/link")
		if err := os.Symlink(arg, "/data/link"); err != nil {
			return nil, fmt.Errorf("symlink: %w", err)
		}
		return os.ReadFile("/data/link")
	case "read": // read:path
		return os.ReadFile(arg)
	case "write": // write:path
		return nil, os.WriteFile(arg, []byte("written by the guest"), 0o600)
	case "readdir": // readdir:path
		ents, err := os.ReadDir(arg)
		if err != nil {
			return nil, err
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return []byte(strings.Join(names, ",")), nil
	case "trap": // a real WebAssembly trap: a store far outside linear memory
		*(*byte)(unsafe.Pointer(uintptr(0xfffffff0))) = 1
	case "exit":
		os.Exit(3)
	case "panic": // a Go panic, which the dispatcher recovers
		panic("hostile driver panics")
	case "loop":
		for {
		}
	case "sleep":
		time.Sleep(time.Hour)
	case "alloc":
		for {
			hog = append(hog, make([]byte, 1<<20))
		}
	case "spawn": // start a goroutine that counts its turns; reactor goroutines run only at yields
		go func() {
			for {
				turns.Add(1)
				runtime.Gosched()
			}
		}()
		return []byte("spawned"), nil
	case "turns":
		return []byte(strconv.FormatInt(turns.Load(), 10)), nil
	case "log":
		fmt.Println("hello from the guest's stdout")
		fmt.Fprintln(os.Stderr, "hello from the guest's stderr")
		return []byte("logged"), nil
	case "clock":
		return []byte(strconv.FormatInt(time.Now().UnixNano(), 10)), nil
	case "rand":
		b := make([]byte, 16)
		rand.Read(b)
		return []byte(hex.EncodeToString(b)), nil
	case "env":
		return []byte(strings.Join(append(os.Args, os.Environ()...), "\n")), nil
	case "big": // big:n - a value of n bytes, past the driver's own checks
		n, _ := strconv.Atoi(arg)
		return make([]byte, n), nil
	}
	return nil, fmt.Errorf("hostile: unknown verb %q: %w", verb, store.ErrInvalidKey)
}
