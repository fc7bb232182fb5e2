'use strict';
// An in-memory store of namespaced byte-string keys, with snapshot transactions: the driver
// behind the ABI dispatcher of abi.js. Byte strings are held as latin1 strings (one code unit
// per byte, 0..255), so JavaScript's string order is the ABI's unsigned byte order, a proper
// prefix sorting before its extensions.
//
// The committed state is a Map (namespace -> Map(key -> Buffer)) that is never changed once
// published: COMMIT publishes a new one, copying only the namespaces it touched. So a read-only
// transaction's snapshot is the state it began on, read without waiting for a writer, which is
// what the CONCURRENT_READERS flag declares.

const sortedKeys = new WeakMap(); // a published namespace Map -> its keys, sorted

function keysOf(ns) {
  let keys = sortedKeys.get(ns);
  if (!keys) {
    keys = [...ns.keys()].sort();
    sortedKeys.set(ns, keys);
  }
  return keys;
}

class MemStore {
  constructor() {
    this.committed = new Map();
  }

  begin(writable) {
    return { writable, base: this.committed, writes: writable ? new Map() : null };
  }

  get(tx, ns, key) {
    const w = tx.writes && tx.writes.get(ns);
    if (w && w.has(key)) return w.get(key); // null: deleted in tx
    const m = tx.base.get(ns);
    const v = m && m.get(key);
    return v === undefined ? null : v;
  }

  put(tx, ns, key, value) {
    let w = tx.writes.get(ns);
    if (!w) tx.writes.set(ns, (w = new Map()));
    w.set(key, value);
  }

  del(tx, ns, key) {
    this.put(tx, ns, key, null);
  }

  // scan returns, in byte order, the entries of ns whose key starts with prefix and is greater
  // than after, calling take(key, value) for each until it returns false.
  scan(tx, ns, prefix, after, take) {
    const base = tx.base.get(ns);
    let keys = base ? keysOf(base) : [];
    const w = tx.writes && tx.writes.get(ns);
    if (w && w.size > 0) {
      keys = [...new Set([...keys, ...w.keys()])].sort();
    }
    const from = Math.max(lowerBound(keys, prefix), after === '' ? 0 : upperBound(keys, after));
    for (let i = from; i < keys.length; i++) {
      const k = keys[i];
      if (!k.startsWith(prefix)) break;
      const v = this.get(tx, ns, k);
      if (v === null) continue;
      if (!take(k, v)) return;
    }
  }

  commit(tx) {
    if (!tx.writable || tx.writes.size === 0) return;
    const next = new Map(this.committed);
    for (const [ns, w] of tx.writes) {
      const m = new Map(next.get(ns) || []);
      for (const [k, v] of w) {
        if (v === null) m.delete(k);
        else m.set(k, v);
      }
      if (m.size === 0) next.delete(ns);
      else next.set(ns, m);
    }
    this.committed = next;
  }
}

// lowerBound is the index of the first key >= s; upperBound of the first key > s.
function lowerBound(keys, s) {
  let lo = 0, hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(keys, s) {
  let lo = 0, hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] <= s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

module.exports = { MemStore };
