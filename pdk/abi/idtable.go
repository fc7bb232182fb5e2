package abi

// idTable holds values (open transactions) by transaction id: the dispatcher's table of a
// session's transactions and the client's of the transactions a guest may hold. Almost always
// one to three are open at a time (a View's, the queued rollback of the last one, an Update's),
// and for so few a scan of a short slice of ids costs a fraction of a map's hashing and probing,
// above all on insert and delete, which every BEGIN and ROLLBACK does. Beyond smallIDTable
// entries a map index is kept beside the slices, so a peer that opens thousands of transactions
// costs a map lookup, not a scan.
//
// The index holds no pointers: adding and removing an entry writes one pointer (the value), not a
// map entry with one in it, which in a WebAssembly guest (whose collector keeps the write barriers
// on for long stretches) is most of what a BEGIN and a ROLLBACK cost.
type idTable[T comparable] struct {
	ids   []uint32 // ids[i] is the id of vals[i]; unordered
	vals  []T
	index map[uint32]int // id -> position in ids; nil while the table is small
}

// smallIDTable is the size up to which idTable scans its ids instead of keeping a map.
const smallIDTable = 8

// Len returns how many entries the table holds.
func (t *idTable[T]) Len() int { return len(t.ids) }

// pos returns the position of id, or -1.
func (t *idTable[T]) pos(id uint32) int {
	if t.index != nil {
		if i, ok := t.index[id]; ok {
			return i
		}
		return -1
	}
	for i, x := range t.ids {
		if x == id {
			return i
		}
	}
	return -1
}

// get returns the value of id, and whether the table holds it.
func (t *idTable[T]) get(id uint32) (v T, ok bool) {
	if i := t.pos(id); i >= 0 {
		return t.vals[i], true
	}
	return v, false
}

// add records v as the value of id, which the table does not hold.
func (t *idTable[T]) add(id uint32, v T) {
	t.ids = append(t.ids, id)
	t.vals = append(t.vals, v)
	switch {
	case t.index != nil:
		t.index[id] = len(t.ids) - 1
	case len(t.ids) > smallIDTable:
		t.index = make(map[uint32]int, 2*len(t.ids))
		for i, x := range t.ids {
			t.index[x] = i
		}
	}
}

// remove forgets id, if the table holds it.
func (t *idTable[T]) remove(id uint32) {
	if i := t.pos(id); i >= 0 {
		t.removeAt(i)
	}
}

// removeIf forgets id if its value is v: the client forgets a transaction only if its id was
// not taken since by another.
func (t *idTable[T]) removeIf(id uint32, v T) {
	if i := t.pos(id); i >= 0 && t.vals[i] == v {
		t.removeAt(i)
	}
}

// removeAt forgets the entry at position i, moving the last entry into its place.
func (t *idTable[T]) removeAt(i int) {
	last := len(t.ids) - 1
	id := t.ids[i]
	t.ids[i], t.vals[i] = t.ids[last], t.vals[last]
	var zero T
	t.vals[last] = zero // no reference kept to what was removed
	t.ids, t.vals = t.ids[:last], t.vals[:last]
	if t.index == nil {
		return
	}
	delete(t.index, id)
	if i < last {
		t.index[t.ids[i]] = i
	}
	if last <= smallIDTable/2 {
		t.index = nil // small again: hysteresis, so a table at the bound does not rebuild it each time
	}
}
