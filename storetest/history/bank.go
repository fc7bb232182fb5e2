package history

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/dockyard/dockyard/store"
)

const (
	bankAccounts = 10
	bankOpening  = 100
	bankTotal    = bankAccounts * bankOpening
)

func account(i int) string { return fmt.Sprintf("acct/%02d", i) }

func balance(tx store.Tx, ns string, i int) (uint64, error) {
	v, err := tx.Get(ns, account(i))
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, breach("account %s holds %q, which no transaction wrote", account(i), v)
	}
	return binary.BigEndian.Uint64(v), nil
}

func setBalance(tx store.Tx, ns string, i int, n uint64) error {
	return tx.Put(ns, account(i), binary.BigEndian.AppendUint64(nil, n))
}

// audit sums every account in one View. The sum must be the opening total, and no balance may
// go negative: a transfer only happens when the source covers it, so a negative balance is
// write skew.
func audit(ctx context.Context, s store.Store, ns string) error {
	return s.View(ctx, func(tx store.Tx) error {
		kvs, err := tx.Scan(ns, "acct/")
		if err != nil {
			return err
		}
		var sum uint64
		for _, kv := range kvs {
			if len(kv.Value) != 8 {
				return breach("account %s holds %q, which no transaction wrote", kv.Key, kv.Value)
			}
			n := binary.BigEndian.Uint64(kv.Value)
			if int64(n) < 0 {
				return breach("account %s is negative: write skew", kv.Key)
			}
			sum += n
		}
		if len(kvs) != bankAccounts || sum != bankTotal {
			return breach("a View saw %d accounts totalling %d, want %d totalling %d", len(kvs), sum, bankAccounts, bankTotal)
		}
		return nil
	})
}

// Bank opens ten accounts, then moves money between them from the writers while the readers
// audit the total in a View. Every audit, and a final one, must find the
// opening total. An unknown commit changes nothing here: a transfer keeps the total whether it
// happened or not.
func Bank(ctx context.Context, target Target, o Options) (Report, error) {
	o = o.withDefaults()
	var rep Report
	err := finally(ctx, o, func() error {
		return target().Update(ctx, func(tx store.Tx) error {
			for i := 0; i < bankAccounts; i++ {
				if err := setBalance(tx, o.Namespace, i, bankOpening); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return rep, fmt.Errorf("open the accounts: %w", err)
	}
	var mu sync.Mutex
	err = drive(ctx, o, &rep, func(ctx context.Context, client int, reader bool, r *rand.Rand) error {
		var err error
		if reader {
			err = audit(ctx, target(), o.Namespace)
		} else {
			from, to := r.IntN(bankAccounts), r.IntN(bankAccounts)
			amount := uint64(1 + r.IntN(60))
			err = target().Update(ctx, func(tx store.Tx) error {
				fb, err := balance(tx, o.Namespace, from)
				if err != nil {
					return err
				}
				tb, err := balance(tx, o.Namespace, to)
				if err != nil {
					return err
				}
				if from == to || fb < amount {
					return nil
				}
				if err := setBalance(tx, o.Namespace, from, fb-amount); err != nil {
					return err
				}
				return setBalance(tx, o.Namespace, to, tb+amount)
			})
		}
		mu.Lock()
		defer mu.Unlock()
		rep.count(classify(err))
		return err
	})
	if err != nil {
		return rep, err
	}
	if err := finally(ctx, o, func() error { return audit(ctx, target(), o.Namespace) }); err != nil {
		return rep, fmt.Errorf("final audit: %w", err)
	}
	return rep, nil
}
