package pdk_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/drivers/inmem"
	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// endless is a driver whose every Scan page holds one new entry, with a value of size bytes
// and a growing key, and says more follow: a hostile guest's answer, for ever.
type endless struct {
	pdk.Driver
	size  int
	pause time.Duration
}

type endlessTxn struct {
	pdk.Txn
	d *endless
	i int
}

func (d *endless) Begin(ctx context.Context, writable bool) (pdk.Txn, error) {
	tx, err := d.Driver.Begin(ctx, writable)
	return &endlessTxn{Txn: tx, d: d}, err
}

func (t *endlessTxn) Scan(ctx context.Context, ns, prefix, after string, limit int) ([]store.KeyValue, bool, error) {
	time.Sleep(t.d.pause)
	t.i++
	return []store.KeyValue{{Key: fmt.Sprintf("%s%012d", prefix, t.i), Value: make([]byte, t.d.size)}}, true, nil
}

// TestScanBounds: a Tx.Scan over a driver that pages for ever ends with ErrScanLimit naming the
// bound it passed: its entries, its bytes, or its time.
func TestScanBounds(t *testing.T) {
	for _, c := range []struct {
		name  string
		d     *endless
		opts  []pdk.Option
		want  string
		limit time.Duration
	}{
		{"entries", &endless{}, []pdk.Option{pdk.WithMaxScanEntries(1000)}, "more than 1000 entries (WithMaxScanEntries)", 0},
		{"bytes", &endless{size: 1 << 20}, []pdk.Option{pdk.WithMaxScanBytes(8 << 20)}, "more than 8388608 bytes of keys and values (WithMaxScanBytes)", 0},
		{"time", &endless{pause: time.Millisecond}, []pdk.Option{pdk.WithMaxScanEntries(1 << 30), pdk.WithScanTimeout(200 * time.Millisecond)},
			"still paging after 200ms", 200 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.d.Driver = inmem.NewDriver()
			s := pdk.NewStore(c.d, c.opts...)
			defer s.Close()
			start := time.Now()
			err := s.View(context.Background(), func(tx store.Tx) error {
				kvs, err := tx.Scan("ns", "p")
				if kvs != nil {
					t.Errorf("Scan returned %d entries with its error", len(kvs))
				}
				return err
			})
			if !errors.Is(err, pdk.ErrScanLimit) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Scan: %v; want ErrScanLimit saying %q", err, c.want)
			}
			if c.limit > 0 {
				if d := time.Since(start); d > 5*c.limit+2*time.Second {
					t.Errorf("the scan ended after %v, its bound is %v", d, c.limit)
				}
			}
		})
	}
}

// TestScanBoundsDefaults: the defaults hold for a scan that has done nothing wrong: a
// namespace of a few thousand entries scans whole.
func TestScanBoundsDefaults(t *testing.T) {
	s := inmem.Open()
	defer s.Close()
	ctx := context.Background()
	if err := s.Update(ctx, func(tx store.Tx) error {
		for i := range 5000 {
			if err := tx.Put("ns", fmt.Sprintf("k%05d", i), []byte("v")); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.View(ctx, func(tx store.Tx) error {
		kvs, err := tx.Scan("ns", "")
		if err == nil && len(kvs) != 5000 {
			err = fmt.Errorf("%d entries, want 5000", len(kvs))
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}
