package ctest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/host/wasmhost"
	"github.com/dockyard/dockyard/pdk/abi"
	"github.com/dockyard/dockyard/store"
)

func storePut(s store.Store, ns, key, value string) error {
	return s.Update(context.Background(), func(tx store.Tx) error { return tx.Put(ns, key, []byte(value)) })
}

func storeGet(s store.Store, ns, key string) (string, error) {
	var v []byte
	err := s.View(context.Background(), func(tx store.Tx) error {
		var err error
		v, err = tx.Get(ns, key)
		return err
	})
	return string(v), err
}

// TestHostileC: a C module breaking the ABI in each way testdata/hostile.c knows. Every
// violation is a clear error from the host (the wasm transport's for a response outside memory
// or over the limit, the ABI client's for a malformed frame). cinmem is not durable, so the
// store is then lost (store.ErrStoreLost) unless it was opened WithAcceptLoss, in which case it
// goes on: on a fresh instance after a broken one, on a fresh session after a malformed answer.
func TestHostileC(t *testing.T) {
	for _, c := range []struct {
		name   string
		marker string
		update bool  // sabotage an Update that only writes instead of a View with one Get
		kind   error // the error wraps it
		want   string
		opts   []wasmhost.Option
	}{
		{"response pointer past memory", "!ptr-past-memory", false, wasmhost.ErrBadResponse, "past its", nil},
		{"response length past memory", "!len-past-memory", false, wasmhost.ErrBadResponse, "past its", nil},
		{"response length 2^32-1", "!len-huge", false, wasmhost.ErrBadResponse, "4294967295-byte response, over the", nil},
		{"reserved status", "!bad-status", false, abi.ErrProtocol, "unknown status 20", nil},
		{"truncated response", "!truncated", false, abi.ErrProtocol, "truncated", nil},
		{"bytes after the last result", "!trailing", false, abi.ErrProtocol, "3 trailing bytes", nil},
		{"count past the results", "!extra-result", false, abi.ErrProtocol, "3 results", nil},
		{"NOT_FOUND answering COMMIT", "!not-found-commit", true, abi.ErrProtocol, "NOT_FOUND for COMMIT", nil},
		{"message past the frame", "!message-past-end", false, abi.ErrProtocol, "message length 1000 exceeds", nil},
		{"another major", "!other-major", false, abi.ErrIncompatible, "guest answered in ABI 2.", nil},
		{"trap", "!trap", false, abi.ErrBroken, "guest trapped in dockyard_call", nil},
		{"runaway", "!loop", false, wasmhost.ErrDeadline, "dockyard_call exceeded its 1s deadline",
			[]wasmhost.Option{wasmhost.WithCallTimeout(time.Second)}},
		{"out of memory", "!oom", false, wasmhost.ErrMemoryLimit, "out of memory",
			[]wasmhost.Option{wasmhost.WithMemoryLimit(32 << 20)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := hostileC.compile(t, "chostile", c.opts...)
			s, err := m.Open(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := storePut(s, "ns", "before", "v"); err != nil {
				t.Fatalf("Put before: %v", err)
			}
			if c.update {
				err = storePut(s, "ns", c.marker, "v")
			} else {
				_, err = storeGet(s, "ns", c.marker)
			}
			switch {
			case err == nil:
				t.Fatalf("no error; want one wrapping %v", c.kind)
			case !errors.Is(err, c.kind):
				t.Fatalf("error %q does not wrap %v", err, c.kind)
			case !strings.Contains(err.Error(), c.want):
				t.Fatalf("error %q does not say %q", err, c.want)
			}
			t.Logf("error: %v", err)
			// cinmem keeps its data in the instance and starts empty at each HELLO, so the data
			// is gone with the instance or session: the store is lost, loudly, for every call.
			if _, err := storeGet(s, "ns", "before"); !errors.Is(err, store.ErrStoreLost) {
				t.Fatalf("Get after the violation: %v; want store.ErrStoreLost", err)
			}
			if err := storePut(s, "ns", "after", "v"); !errors.Is(err, store.ErrStoreLost) {
				t.Fatalf("Put after the violation: %v; want store.ErrStoreLost", err)
			}
			// The host serves a store opened anew, and one that accepts the loss goes on.
			for _, reopen := range []func() (store.Store, error){
				func() (store.Store, error) { return m.Open(context.Background(), "") },
				func() (store.Store, error) {
					return hostileC.compile(t, "chostile", append(c.opts, wasmhost.WithAcceptLoss())...).Open(context.Background(), "")
				},
			} {
				s2, err := reopen()
				if err != nil {
					t.Fatal(err)
				}
				defer s2.Close()
				if err := storePut(s2, "ns", "after", "fresh"); err != nil {
					t.Fatalf("Put in a new store: %v", err)
				}
				if v, err := storeGet(s2, "ns", "after"); err != nil || v != "fresh" {
					t.Fatalf("Get in a new store: %q, %v", v, err)
				}
			}
			// With WithAcceptLoss the store itself goes on, empty, after the violation.
			ms := hostileC.compile(t, "chostile", append(c.opts, wasmhost.WithAcceptLoss())...)
			s3, err := ms.Open(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			defer s3.Close()
			if err := storePut(s3, "ns", "before", "v"); err != nil {
				t.Fatal(err)
			}
			if c.update {
				err = storePut(s3, "ns", c.marker, "v")
			} else {
				_, err = storeGet(s3, "ns", c.marker)
			}
			if !errors.Is(err, c.kind) || errors.Is(err, store.ErrStoreLost) {
				t.Fatalf("with WithAcceptLoss: %v; want %v, not ErrStoreLost", err, c.kind)
			}
			if _, err := storeGet(s3, "ns", "before"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("with WithAcceptLoss, Get of the data before: %v; want ErrNotFound from a fresh session", err)
			}
		})
	}
}
