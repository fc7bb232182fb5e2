package crashtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dockyard/dockyard/store"
)

// LockRetaken is a Config.Recovered for drivers whose writers, in every process, queue on one
// lock: after the kill, an Update that reads (and so takes the lock) must get it within
// within, so the dead client holds it no longer than that.
func LockRetaken(within time.Duration) func(t *testing.T, s store.Store) {
	return func(t *testing.T, s store.Store) {
		ctx, cancel := context.WithTimeout(t.Context(), within)
		defer cancel()
		start := time.Now()
		err := s.Update(ctx, func(tx store.Tx) error {
			if _, err := tx.Get(ns, "counter"); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			return nil
		})
		if err != nil {
			t.Fatalf("taking the write lock after the client was killed: %v (after %v)", err, time.Since(start))
		}
		t.Logf("write lock taken %v after the kill", time.Since(start).Round(time.Millisecond))
	}
}
