package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Migration is one forward-only schema or data step. Migrations are append-only and
// forward-only: the runner detects a reorder or removal of an already-applied migration and
// refuses to proceed (ErrMigrationOutOfOrder).
//
// "Never edit a migration's Up body after it merges" is a REVIEW-ENFORCED rule, NOT a
// runtime-enforced one — and deliberately so. A Migration's effect is a Go func (Up), and a func
// value cannot be reliably content-hashed: Go offers no stable hash of a closure's body, and two
// closures over different source share an entry point. The runner therefore cannot detect an
// edit to an Up body that keeps the same ID and ordinal. It does not pretend to: it enforces
// ordering and non-removal at runtime, and the no-post-merge-edit rule is enforced in code
// review and CI diff. (An earlier design claimed the runner enforced it; it cannot, and this
// rule replaced that claim.)
type Migration struct {
	// ID uniquely identifies the migration and fixes its order. Use a
	// zero-padded numeric prefix, e.g. "0001_init", "0002_add_obs".
	ID string

	// Up performs the migration inside a read-write transaction. It must be
	// idempotent-safe in the sense that it only runs once per store, but it
	// need not itself guard against re-runs — the runner records completion.
	Up func(ctx context.Context, tx Tx) error
}

// MigrationSet is an explicit, caller-owned, ordered collection of migrations. It
// REPLACES the former process-global migration registry: a MigrationSet is a plain value a
// caller constructs, populates, and passes to Store.Migrate, so there is no mutable shared state
// and no panic-on-duplicate global. Two goroutines — or two t.Parallel() test fixtures — each
// build their own MigrationSet and migrate independent stores with no cross-talk and no external
// locking.
//
// Registration order is application order. A MigrationSet is NOT safe for concurrent mutation
// (it is built once, by its owner, before use); it is safe to pass a fully-built set to many
// concurrent Store.Migrate calls because Migrate only reads it.
type MigrationSet struct {
	migrations []Migration
	ids        map[string]int // ID -> ordinal
}

// NewMigrationSet returns an empty MigrationSet ready for MigrationSet.Add.
func NewMigrationSet() *MigrationSet {
	return &MigrationSet{ids: map[string]int{}}
}

// Add appends a migration. It returns ErrDuplicateMigration for a repeated ID, and a
// descriptive error for an empty ID or a nil Up — a duplicate or malformed migration is a
// programming error, but Add returns it rather than panicking so a caller (a sub-store
// assembling its set, a test) handles it cleanly (never panic for control flow). Add returns the
// receiver so calls chain.
func (s *MigrationSet) Add(m Migration) (*MigrationSet, error) {
	if m.ID == "" {
		return s, errors.New("store: migration with an empty ID")
	}
	if m.Up == nil {
		return s, fmt.Errorf("store: migration %q has a nil Up", m.ID)
	}
	if len(m.ID) > MaxKeySize {
		return s, fmt.Errorf("store: migration ID of %d bytes: %w (max %d)", len(m.ID), ErrTooLarge, MaxKeySize)
	}
	if s.ids == nil {
		s.ids = map[string]int{}
	}
	if _, dup := s.ids[m.ID]; dup {
		return s, fmt.Errorf("%w: %q", ErrDuplicateMigration, m.ID)
	}
	s.ids[m.ID] = len(s.migrations)
	s.migrations = append(s.migrations, m)
	return s, nil
}

// Extend appends every migration of other into s, preserving order. It is how a caller composes
// the migration sets of several sub-stores (e.g. a task store's set plus an observation store's)
// into the one set it hands Store.Migrate. A duplicate ID across the sets yields
// ErrDuplicateMigration, and then s is left unchanged.
func (s *MigrationSet) Extend(other *MigrationSet) (*MigrationSet, error) {
	if other == nil {
		return s, nil
	}
	for _, m := range other.migrations {
		if _, dup := s.ids[m.ID]; dup {
			return s, fmt.Errorf("%w: %q", ErrDuplicateMigration, m.ID)
		}
	}
	for _, m := range other.migrations {
		if _, err := s.Add(m); err != nil {
			return s, err
		}
	}
	return s, nil
}

// Len reports the number of migrations in the set.
func (s *MigrationSet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.migrations)
}

// MustAdd is MigrationSet.Add for a caller that treats a duplicate/malformed migration as a
// build-time invariant — typically a sub-store assembling its own fixed set in a constructor. It
// panics on error. It is not used on any request path.
func (s *MigrationSet) MustAdd(m Migration) *MigrationSet {
	if _, err := s.Add(m); err != nil {
		panic(err)
	}
	return s
}

// MigrationRecord is the value RunMigrations stores under MigrationNamespace for each applied
// migration, JSON-encoded.
type MigrationRecord struct {
	// Ordinal is the migration's position in the set when it was applied.
	Ordinal int `json:"ordinal"`
	// AppliedAt is when the migration was applied (UTC).
	AppliedAt time.Time `json:"applied_at"`
}

// RunMigrations applies every migration of set not yet recorded in s, inside s's own
// transactions. It is the shared implementation every driver's Migrate method delegates to, so
// migration semantics are identical across drivers. A nil set is a valid no-op. It is
// forward-only and idempotent:
//
//   - A migration already recorded at its current ordinal is skipped.
//   - A recorded migration now registered at a different ordinal, or an applied migration no
//     longer registered at all, yields ErrMigrationOutOfOrder — a migration was reordered or
//     removed after merge.
//
// It does NOT detect an edit to a migration's Up body that keeps the same ID and ordinal: a Go
// func cannot be content-hashed (see Migration), so that rule is kept by code review, not by
// the runner.
//
// Each migration runs in its own Update together with the write of its record, so a migration
// is applied exactly once even when several Migrate calls race on one store: the loser of the
// race finds the record and skips.
func RunMigrations(ctx context.Context, s Store, set *MigrationSet) error {
	if set.Len() == 0 {
		return nil
	}
	var pending bool
	err := s.View(ctx, func(tx Tx) error {
		applied, err := AppliedMigrations(tx)
		if err != nil {
			return err
		}
		if err := set.check(applied); err != nil {
			return err
		}
		pending = len(applied) < set.Len()
		return nil
	})
	if err != nil || !pending {
		return err
	}
	for i, m := range set.migrations {
		err := s.Update(ctx, func(tx Tx) error {
			applied, err := AppliedMigrations(tx)
			if err != nil {
				return err
			}
			if err := set.check(applied); err != nil {
				return err
			}
			if _, done := applied[m.ID]; done {
				return nil
			}
			if err := m.Up(ctx, tx); err != nil {
				return fmt.Errorf("store: migration %q: %w", m.ID, err)
			}
			rec, err := json.Marshal(MigrationRecord{Ordinal: i, AppliedAt: time.Now().UTC()})
			if err != nil {
				return err
			}
			return tx.Put(MigrationNamespace, m.ID, rec)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// AppliedMigrations reads the migration records of the store tx belongs to, by migration ID.
func AppliedMigrations(tx Tx) (map[string]MigrationRecord, error) {
	kvs, err := tx.Scan(MigrationNamespace, "")
	if err != nil {
		return nil, fmt.Errorf("store: read migration records: %w", err)
	}
	applied := make(map[string]MigrationRecord, len(kvs))
	for _, kv := range kvs {
		var rec MigrationRecord
		if err := json.Unmarshal(kv.Value, &rec); err != nil {
			return nil, fmt.Errorf("store: migration record %q is corrupt: %w", kv.Key, err)
		}
		applied[kv.Key] = rec
	}
	return applied, nil
}

// checkNewer reports ErrStoreNewer (and ErrMigrationOutOfOrder) when the store's applied
// migrations are the whole set followed by more: the store was migrated by a newer version of
// the program than the one running, which is not the same mistake as a reordered set.
func (s *MigrationSet) checkNewer(applied map[string]MigrationRecord) error {
	n := len(s.ids)
	if len(applied) <= n {
		return nil
	}
	newest, newestOrd := "", -1
	for id, rec := range applied {
		ord, known := s.ids[id]
		switch {
		case known && ord != rec.Ordinal, !known && rec.Ordinal < n, rec.Ordinal >= len(applied):
			return nil // not a clean extension: check says what is wrong
		case !known && rec.Ordinal > newestOrd:
			newest, newestOrd = id, rec.Ordinal
		}
	}
	return fmt.Errorf("%w: %w: the store has %d migrations this program does not know, up to %q (ordinal %d): it was migrated by a newer version of the program",
		ErrStoreNewer, ErrMigrationOutOfOrder, len(applied)-n, newest, newestOrd)
}

// check reports ErrMigrationOutOfOrder unless the applied migrations are exactly a prefix of the
// set, each at its current ordinal.
func (s *MigrationSet) check(applied map[string]MigrationRecord) error {
	if err := s.checkNewer(applied); err != nil {
		return err
	}
	for id, rec := range applied {
		ord, ok := s.ids[id]
		if !ok {
			return fmt.Errorf("%w: applied migration %q (ordinal %d) is no longer registered", ErrMigrationOutOfOrder, id, rec.Ordinal)
		}
		if ord != rec.Ordinal {
			return fmt.Errorf("%w: migration %q was applied at ordinal %d but is now registered at %d", ErrMigrationOutOfOrder, id, rec.Ordinal, ord)
		}
	}
	// Every applied ordinal is in the set at the same place and the IDs are distinct, so the
	// applied ordinals are distinct; they form a prefix exactly when none reaches past it.
	for id, rec := range applied {
		if rec.Ordinal >= len(applied) {
			return fmt.Errorf("%w: migration %q is applied at ordinal %d but an earlier migration is not", ErrMigrationOutOfOrder, id, rec.Ordinal)
		}
	}
	return nil
}
