'use strict';
// The Dockyard ABI 1.1 guest side, as docs/abi.md describes it: a request frame is checked
// whole before anything runs (a malformed one is refused with a single BAD_FRAME), then its
// operations run in order until the first failure. Byte strings cross as latin1 strings to
// the store (see memstore.js) and back as Buffers.

const { MemStore } = require('./memstore');

const MAJOR = 1, MINOR = 1;
const REQ_MAGIC = 0x00515944; // "DYQ\0", read as a little-endian u32
const RESP_MAGIC = Buffer.from('DYR\0', 'latin1');

const Op = { HELLO: 1, BEGIN: 2, GET: 3, PUT: 4, DELETE: 5, SCAN: 6, COMMIT: 7, ROLLBACK: 8, PING: 9, CLOSE: 10 };
const opNames = ['', 'HELLO', 'BEGIN', 'GET', 'PUT', 'DELETE', 'SCAN', 'COMMIT', 'ROLLBACK', 'PING', 'CLOSE'];
const St = { OK: 0, NOT_FOUND: 1, READ_ONLY: 5, FAILED: 32, BAD_FRAME: 33, INCOMPATIBLE: 34, UNKNOWN_TX: 35, NOT_OPEN: 36 };

const MAX_LIMIT = 65536;
const PAGE_BUDGET = 1 << 20;
const MAX_MESSAGE = 4096;

class Refusal extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// Reader decodes one frame, every read checked against the bytes present.
class Reader {
  constructor(buf) {
    this.buf = buf;
    this.off = 12;
    this.op = 0;
    this.name = '';
  }
  need(n, what) {
    const left = this.buf.length - this.off;
    if (n > left) {
      throw new Refusal(St.BAD_FRAME, `op ${this.op} (${this.name}): ${what} needs ${n} bytes, ${left} left at offset ${this.off}`);
    }
  }
  u8(what) { this.need(1, what); return this.buf[this.off++]; }
  u16(what) { this.need(2, what); const v = this.buf.readUInt16LE(this.off); this.off += 2; return v; }
  u32(what) { this.need(4, what); const v = this.buf.readUInt32LE(this.off); this.off += 4; return v; }
  bytes(what) {
    this.need(4, what + ' length');
    const n = this.buf.readUInt32LE(this.off);
    const left = this.buf.length - this.off - 4;
    if (n > left) {
      throw new Refusal(St.BAD_FRAME, `op ${this.op} (${this.name}): ${what} length ${n} exceeds the ${left} bytes left at offset ${this.off}`);
    }
    const b = this.buf.subarray(this.off + 4, this.off + 4 + n);
    this.off += 4 + n;
    return b;
  }
  str(what) { return this.bytes(what).toString('latin1'); }
}

// decode is pass 1: the whole frame, or a Refusal.
function decode(buf) {
  if (buf.length < 12) throw new Refusal(St.BAD_FRAME, `frame of ${buf.length} bytes is shorter than the 12-byte header`);
  if (buf.readUInt32LE(0) !== REQ_MAGIC) throw new Refusal(St.BAD_FRAME, 'bad magic: not a request frame');
  const major = buf.readUInt16LE(4), minor = buf.readUInt16LE(6);
  if (major !== MAJOR) {
    throw new Refusal(St.INCOMPATIBLE, `host speaks ABI ${major}.${minor}, guest speaks ABI ${MAJOR}.${MINOR}`);
  }
  const count = buf.readUInt32LE(8);
  if (count > buf.length - 12) throw new Refusal(St.BAD_FRAME, `count ${count} exceeds the ${buf.length - 12} bytes after the header`);
  const r = new Reader(buf);
  const ops = [];
  for (let i = 0; i < count; i++) {
    r.op = i;
    r.name = '';
    const at = r.off;
    const code = r.u8('op code');
    r.name = opNames[code] || '';
    const o = { code };
    switch (code) {
      case Op.HELLO: o.major = r.u16('major'); o.minor = r.u16('minor'); o.dsn = r.str('dsn'); o.options = r.bytes('options'); break;
      case Op.BEGIN:
        o.tx = r.u32('tx'); o.writable = r.u8('writable');
        if (o.tx === 0) throw new Refusal(St.BAD_FRAME, `op ${i} (BEGIN): transaction 0 at offset ${at}`);
        if (o.writable > 1) throw new Refusal(St.BAD_FRAME, `op ${i} (BEGIN): writable byte ${o.writable} is not 0 or 1 at offset ${r.off - 1}`);
        break;
      case Op.GET: case Op.DELETE: o.tx = r.u32('tx'); o.ns = r.str('ns'); o.key = r.str('key'); break;
      case Op.PUT: o.tx = r.u32('tx'); o.ns = r.str('ns'); o.key = r.str('key'); o.value = Buffer.from(r.bytes('value')); break;
      case Op.SCAN:
        o.tx = r.u32('tx'); o.ns = r.str('ns'); o.prefix = r.str('prefix'); o.after = r.str('after'); o.limit = r.u32('limit');
        if (o.limit === 0) throw new Refusal(St.BAD_FRAME, `op ${i} (SCAN): limit 0 at offset ${r.off - 4}`);
        break;
      case Op.COMMIT: case Op.ROLLBACK: o.tx = r.u32('tx'); break;
      case Op.PING: case Op.CLOSE: break;
      default: throw new Refusal(St.BAD_FRAME, `op ${i}: unknown op code ${code} at offset ${at}`);
    }
    ops.push(o);
  }
  if (r.off !== buf.length) throw new Refusal(St.BAD_FRAME, `${buf.length - r.off} bytes after the last operation, at offset ${r.off}`);
  return ops;
}

// Writer builds a response frame.
class Writer {
  constructor() { this.parts = []; this.count = 0; }
  raw(b) { this.parts.push(b); }
  u8(v) { this.parts.push(Buffer.from([v])); }
  u16(v) { const b = Buffer.alloc(2); b.writeUInt16LE(v); this.parts.push(b); }
  u32(v) { const b = Buffer.alloc(4); b.writeUInt32LE(v); this.parts.push(b); }
  bytes(b) { this.u32(b.length); this.parts.push(b); }
  fail(status, message) {
    let m = Buffer.from(message, 'utf8');
    if (m.length > MAX_MESSAGE) m = m.subarray(0, MAX_MESSAGE);
    this.count++;
    this.u8(status);
    this.bytes(m);
  }
  frame() {
    const h = Buffer.alloc(12);
    RESP_MAGIC.copy(h, 0);
    h.writeUInt16LE(MAJOR, 4);
    h.writeUInt16LE(MINOR, 6);
    h.writeUInt32LE(this.count, 8);
    return Buffer.concat([h, ...this.parts]);
  }
}

// Session is one ABI session's state: the guest of one Frames stream.
class Session {
  constructor() { this.store = null; this.txs = new Map(); }

  close() {
    for (const id of [...this.txs.keys()].sort((a, b) => a - b)) this.txs.delete(id);
    this.store = null;
  }

  // handle answers one request frame with its response frame.
  handle(req) {
    const w = new Writer();
    let ops;
    try {
      ops = decode(req);
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      w.fail(e.status, e.message);
      return w.frame();
    }
    for (const o of ops) {
      try {
        this.exec(o, w);
      } catch (e) {
        const status = e instanceof Refusal ? e.status : St.FAILED;
        if (!(e instanceof Refusal) && o.tx !== undefined && o.code !== Op.BEGIN) this.txs.delete(o.tx); // a crash drops its tx
        w.fail(status, e instanceof Refusal ? e.message : `${opNames[o.code]}: driver crashed: ${e && e.message}`);
        break;
      }
    }
    return w.frame();
  }

  tx(o) {
    const t = this.txs.get(o.tx);
    if (!t) throw new Refusal(St.UNKNOWN_TX, `${opNames[o.code]}: transaction ${o.tx} is not open`);
    return t;
  }

  exec(o, w) {
    if (o.code === Op.HELLO) return this.hello(o, w);
    if (!this.store) throw new Refusal(St.NOT_OPEN, `${opNames[o.code]}: no session is open (HELLO first)`);
    switch (o.code) {
      case Op.BEGIN:
        if (this.txs.has(o.tx)) throw new Refusal(St.BAD_FRAME, `transaction ${o.tx} is already open`);
        this.txs.set(o.tx, this.store.begin(o.writable === 1));
        break;
      case Op.GET: {
        const v = this.store.get(this.tx(o), o.ns, o.key);
        if (v === null) { w.count++; w.u8(St.NOT_FOUND); return; }
        w.count++; w.u8(St.OK); w.bytes(v); return;
      }
      case Op.PUT: case Op.DELETE: {
        const t = this.tx(o);
        if (!t.writable) throw new Refusal(St.READ_ONLY, `${opNames[o.code]}: transaction ${o.tx} is read-only`);
        if (o.code === Op.PUT) this.store.put(t, o.ns, o.key, o.value);
        else this.store.del(t, o.ns, o.key);
        break;
      }
      case Op.SCAN: return this.scan(o, w);
      case Op.COMMIT: {
        const t = this.tx(o);
        this.txs.delete(o.tx); // ended whatever COMMIT answers
        this.store.commit(t);
        break;
      }
      case Op.ROLLBACK: this.tx(o); this.txs.delete(o.tx); break;
      case Op.PING: break;
      case Op.CLOSE: this.close(); break;
    }
    w.count++;
    w.u8(St.OK);
  }

  hello(o, w) {
    if (o.major !== MAJOR) {
      throw new Refusal(St.INCOMPATIBLE, `host speaks ABI ${o.major}.${o.minor}, guest speaks ABI ${MAJOR}.${MINOR}`);
    }
    this.close(); // a new HELLO ends the open session, as CLOSE would
    this.store = new MemStore(); // not durable: a new session starts empty
    w.count++;
    w.u8(St.OK);
    w.u16(MAJOR); w.u16(MINOR);
    w.bytes(Buffer.from('nodeinmem')); w.bytes(Buffer.from('1.0.0'));
    w.u8(0x02); // CONCURRENT_READERS; not DURABLE
    w.u32(0); w.u32(0); w.u32(0); w.u32(0); // maxKey, maxValue, maxNS, maxRequest: the store's
  }

  // scan answers one page: at most limit (lowered to 65536) entries, and no more than the page
  // byte budget unless a single entry is larger; more is 1 exactly when an entry was left out.
  scan(o, w) {
    const t = this.tx(o);
    const limit = Math.min(o.limit, MAX_LIMIT);
    const page = [];
    let size = 4 + 1, more = 0;
    this.store.scan(t, o.ns, o.prefix, o.after, (k, v) => {
      const n = 8 + k.length + v.length;
      if (page.length === limit || (page.length > 0 && size + n > PAGE_BUDGET)) {
        more = 1;
        return false;
      }
      page.push([k, v]);
      size += n;
      return true;
    });
    w.count++;
    w.u8(St.OK);
    w.u32(page.length);
    for (const [k, v] of page) { w.bytes(Buffer.from(k, 'latin1')); w.bytes(v); }
    w.u8(more);
  }
}

module.exports = { Session, decode };
