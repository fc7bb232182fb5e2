package buntdb

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strconv"
	"strings"
)

// The database file is buntdb's append-only file: a sequence of records in the Redis protocol
// (RESP), each "*N\r\n" followed by N bulk strings "$len\r\n<bytes>\r\n". Lengths are explicit,
// so keys and values are binary-safe. buntdb writes two kinds of record, SET key value and
// DEL key, and appends all the records of one transaction with a single write, one record per
// key the transaction set or deleted, in map order.
//
// buntdb has no transaction framing: on open it applies every complete record and drops only a
// torn last record. A transaction cut short in the middle of its write (a write(2) interrupted
// by SIGKILL between pages, or a power loss before all its pages reached the disk) would come
// back in part. This driver adds the framing buntdb lacks, inside buntdb's own format:
//
//   - The first record of every file is SET formatKey "dockyard-buntdb <FormatVersion>".
//   - Every transaction that writes anything also sets commitKey to "<count> <sum>": count is
//     the number of records the transaction writes, the commit record included, and sum is the
//     sum (mod 2^32) of the CRC-32C of each of its other records' bytes. A sum does not depend
//     on the order of the records, which buntdb chooses; the transaction's records are one
//     contiguous run of the file that holds exactly one commit record.
//
// Before buntdb reads the file, recoverFile walks it: the header, then runs of records, each
// complete when its count is reached and its sum matches. The file may end with the remains of
// one transaction whose write did not complete, which was never acknowledged since its fsync had
// not returned: a run cut short, zeros, a run whose sum does not match. If no commit record
// follows the damage, it is such remains, and the file is truncated to the end of the last
// complete run. Any other damage is an error naming the file and the offset, and the file is
// left as it is. (Damage to the last transaction that no commit record follows, say a flipped
// bit, cannot be told from a torn write, and is truncated like one.)

// formatName and FormatVersion make up the value of the header record.
const formatName = "dockyard-buntdb"

// FormatVersion is the version of the file layout this driver writes and reads, recorded in the
// header record of every database file. A file with another version is refused.
const FormatVersion = 1

const (
	// maxBulk bounds a bulk string the recovery walk accepts. The driver never writes one larger
	// than a value (4 MiB) or key; a larger length is damage, not data.
	maxBulk = 64 << 20

	// maxMetaValue bounds the value of a meta record.
	maxMetaValue = 64
)

var formatValue = formatName + " " + strconv.Itoa(FormatVersion)

// header is the first record of every database file.
var header = appendSet(nil, formatKey, formatValue)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func appendBulkHeader(b []byte, n int) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}

func appendBulk(b []byte, s string) []byte {
	b = appendBulkHeader(b, len(s))
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// appendSet appends a SET record exactly as buntdb writes one.
func appendSet(b []byte, key, value string) []byte {
	b = append(b, "*3\r\n$3\r\nset\r\n"...)
	b = appendBulk(b, key)
	return appendBulk(b, value)
}

// setSize is the length of the SET record of (key, value).
func setSize(key, value string) int64 {
	bulk := func(n int) int64 { return 1 + int64(len(strconv.Itoa(n))) + 2 + int64(n) + 2 }
	return 4 + bulk(3) + bulk(len(key)) + bulk(len(value))
}

var crlf = []byte("\r\n")

// setCRC is the CRC-32C of the SET record of (key, value), computed without building it.
func setCRC(key string, value []byte) uint32 {
	var b [32]byte
	c := crc32.Update(0, castagnoli, appendBulkHeader(append(b[:0], "*3\r\n$3\r\nset\r\n"...), len(key)))
	c = crc32.Update(c, castagnoli, []byte(key))
	c = crc32.Update(c, castagnoli, appendBulkHeader(append(b[:0], crlf...), len(value)))
	c = crc32.Update(c, castagnoli, value)
	return crc32.Update(c, castagnoli, crlf)
}

// delCRC is the CRC-32C of the DEL record of key.
func delCRC(key string) uint32 {
	var b [32]byte
	c := crc32.Update(0, castagnoli, appendBulkHeader(append(b[:0], "*2\r\n$3\r\ndel\r\n"...), len(key)))
	c = crc32.Update(c, castagnoli, []byte(key))
	return crc32.Update(c, castagnoli, crlf)
}

// commitValue is the value of the commit record of a transaction of count records (itself
// included) whose other records' CRCs add up to sum.
func commitValue(count int, sum uint32) string {
	return strconv.Itoa(count) + " " + strconv.FormatUint(uint64(sum), 16)
}

func parseCommit(v string) (count int, sum uint32, ok bool) {
	c, s, found := strings.Cut(v, " ")
	n, err1 := strconv.Atoi(c)
	x, err2 := strconv.ParseUint(s, 16, 32)
	if !found || err1 != nil || err2 != nil || n < 1 {
		return 0, 0, false
	}
	return n, uint32(x), true
}

// errDamaged is wrapped by every error that reports a damaged database file.
var errDamaged = errors.New("database file is damaged")

// damage is a defect of the file at off.
type damage struct {
	off int64
	msg string
}

func (d *damage) Error() string { return fmt.Sprintf("at offset %d: %s", d.off, d.msg) }

// record is one record of the file, as much of it as recovery needs.
type record struct {
	start int64
	del   bool
	key   string // the key if it is at most maxMetaValue bytes long (enough to spot meta keys)
	value string // the value of a SET of a meta key
	vat   int64  // where the value starts
	crc   uint32 // CRC-32C of the record's bytes
}

// walker reads records from the file. Its errors are io.EOF (a clean end, before a record),
// io.ErrUnexpectedEOF (the file ends inside a record), *damage, or an I/O error.
type walker struct {
	br  *bufio.Reader
	off int64
	crc uint32 // of the bytes of the current record so far
}

func newWalker(r io.Reader) *walker { return &walker{br: bufio.NewReaderSize(r, 1<<20)} }

func (w *walker) readByte() (byte, error) {
	c, err := w.br.ReadByte()
	if err == io.EOF {
		return 0, io.ErrUnexpectedEOF
	}
	if err != nil {
		return 0, err
	}
	w.off++
	w.crc = crc32.Update(w.crc, castagnoli, []byte{c})
	return c, nil
}

// skip consumes n bytes, adding them to the CRC, and returns the first keep of them (all n if
// n <= keep, else none).
func (w *walker) skip(n, keep int) (string, error) {
	var kept []byte
	keeping := n <= keep
	if keeping {
		kept = make([]byte, 0, n)
	}
	for n > 0 {
		p, err := w.br.Peek(min(n, w.br.Size()))
		if len(p) > 0 {
			w.crc = crc32.Update(w.crc, castagnoli, p)
			if keeping {
				kept = append(kept, p...)
			}
			d, _ := w.br.Discard(len(p))
			w.off += int64(d)
			n -= d
		}
		if n > 0 && err != nil {
			return "", unexpected(err)
		}
	}
	return string(kept), nil
}

func unexpected(err error) error {
	if err == io.EOF || err == bufio.ErrBufferFull {
		return io.ErrUnexpectedEOF
	}
	return err
}

// number reads the decimal digits and CRLF that follow a '*' or '$'.
func (w *walker) number() (int, error) {
	start := w.off
	n, digits := 0, 0
	for {
		c, err := w.readByte()
		if err != nil {
			return 0, err
		}
		switch {
		case c >= '0' && c <= '9' && digits < 10:
			n = n*10 + int(c-'0')
			digits++
		case c == '\r' && digits > 0:
			c, err := w.readByte()
			if err != nil {
				return 0, err
			}
			if c != '\n' {
				return 0, &damage{w.off - 1, "CR not followed by LF"}
			}
			return n, nil
		default:
			return 0, &damage{start, "malformed length"}
		}
	}
}

// bulk reads one bulk string. It returns its content if it is at most keep bytes long; a longer
// one is skipped.
func (w *walker) bulk(keep int) (string, error) {
	start := w.off
	c, err := w.readByte()
	if err != nil {
		return "", err
	}
	if c != '$' {
		return "", &damage{start, fmt.Sprintf("bulk string starts with byte 0x%02x, not '$'", c)}
	}
	n, err := w.number()
	if err != nil {
		return "", err
	}
	if n > maxBulk {
		return "", &damage{start, fmt.Sprintf("bulk string of %d bytes (max %d)", n, maxBulk)}
	}
	s, err := w.skip(n, keep)
	if err != nil {
		return "", err
	}
	for _, want := range []byte{'\r', '\n'} {
		c, err := w.readByte()
		if err != nil {
			return "", err
		}
		if c != want {
			return "", &damage{w.off - 1, "bulk string not followed by CRLF"}
		}
	}
	return s, nil
}

// record reads the next record.
func (w *walker) record() (record, error) {
	rec := record{start: w.off}
	w.crc = 0
	if _, err := w.br.Peek(1); err != nil {
		return rec, err // io.EOF: a clean end
	}
	c, err := w.readByte()
	if err != nil {
		return rec, err
	}
	if c != '*' {
		return rec, &damage{rec.start, fmt.Sprintf("record starts with byte 0x%02x, not '*'", c)}
	}
	parts, err := w.number()
	if err != nil {
		return rec, err
	}
	if parts != 2 && parts != 3 {
		return rec, &damage{rec.start, fmt.Sprintf("record of %d parts", parts)}
	}
	cmd, err := w.bulk(3)
	if err != nil {
		return rec, err
	}
	switch {
	case cmd == "set" && parts == 3:
	case cmd == "del" && parts == 2:
		rec.del = true
	default:
		return rec, &damage{rec.start, fmt.Sprintf("unknown record %q of %d parts", cmd, parts)}
	}
	if rec.key, err = w.bulk(maxMetaValue); err != nil {
		return rec, err
	}
	if !rec.del {
		keep := 0
		rec.vat = w.off
		if isMeta(rec.key) {
			keep = maxMetaValue
		}
		if rec.value, err = w.bulk(keep); err != nil {
			return rec, err
		}
	}
	rec.crc = w.crc
	return rec, nil
}

// recovery is what recoverFile found.
type recovery struct {
	created   bool  // the file was new (or its header torn) and was given a header
	end       int64 // the file's length after recovery
	truncated int64 // bytes of a torn last transaction cut off; 0 if none
	txns      int   // complete transactions (runs) after the header
}

// String summarizes a recovery, for logs and tests.
func (rc recovery) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d bytes, %d transactions", rc.end, rc.txns)
	if rc.created {
		b.WriteString(", created")
	}
	if rc.truncated > 0 {
		fmt.Fprintf(&b, ", %d torn bytes truncated", rc.truncated)
	}
	return b.String()
}

// recoverFile checks the database file f, whose name is path, as described at the top of this
// file: it writes the header into a new file, truncates the remains of a torn last
// transaction, and reports anything else that is wrong as an error. Every change it makes is
// fsynced.
func recoverFile(f *os.File, path string) (recovery, error) {
	var rc recovery
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return rc, fmt.Errorf("buntdb: read %s: %w", path, err)
	}
	w := newWalker(f)
	first, err := w.record()
	if err == io.EOF || err != nil && isHeaderPrefix(f) {
		// A new file, or one whose creation was cut short: nothing was ever committed to it.
		if err := writeHeader(f); err != nil {
			return rc, fmt.Errorf("buntdb: create %s: %w", path, err)
		}
		rc.created, rc.end = true, int64(len(header))
		return rc, nil
	}
	if err != nil {
		if _, ok := errors.AsType[*damage](err); ok || err == io.ErrUnexpectedEOF {
			return rc, fmt.Errorf("buntdb: open %s: not a Dockyard buntdb database (no %s header record)", path, formatName)
		}
		return rc, fmt.Errorf("buntdb: read %s: %w", path, err)
	}
	if first.del || first.key != formatKey {
		return rc, fmt.Errorf("buntdb: open %s: not a Dockyard buntdb database (no %s header record)", path, formatName)
	}
	if first.value != formatValue {
		return rc, fmt.Errorf("buntdb: open %s: the file has format %q; this driver reads %q only", path, first.value, formatValue)
	}

	start := w.off // the end of the last complete transaction
	var (
		seen   int    // records of the current transaction so far
		count  int    // its commit record's count; 0 until that record is read
		want   uint32 // its commit record's sum
		sum    uint32 // the sum of its records' CRCs so far
		broken error  // damage found in the current transaction
	)
	for {
		rec, err := w.record()
		if err == nil && isMeta(rec.key) {
			if d := checkCommit(rec, seen+1, count); d != nil {
				err = d
			}
		}
		switch {
		case err == io.EOF && seen == 0:
			rc.end = start
			return rc, nil
		case err == io.EOF, err == io.ErrUnexpectedEOF:
			return truncate(f, path, start, rc)
		case err == nil:
			seen++
			if rec.key == commitKey {
				count, want, _ = parseCommit(rec.value)
			} else {
				sum += rec.crc
			}
			if count == 0 || seen < count {
				continue
			}
			if sum == want {
				start, seen, count, sum = w.off, 0, 0, 0
				rc.txns++
				continue
			}
			broken = &damage{start, fmt.Sprintf("the checksum of the transaction of %d records does not match", count)}
		default:
			broken = err
		}
		d, ok := errors.AsType[*damage](broken)
		if !ok {
			return rc, fmt.Errorf("buntdb: read %s: %w", path, broken)
		}
		later, err := containsCommit(f, max(w.off, d.off+1))
		if err != nil {
			return rc, fmt.Errorf("buntdb: read %s: %w", path, err)
		}
		if !later {
			// No commit record after the damage: it is the remains of a transaction whose
			// write never completed.
			return truncate(f, path, start, rc)
		}
		return rc, fmt.Errorf("buntdb: open %s: %w %v (a later transaction follows, so this is not a torn write; the file is left unchanged)", path, errDamaged, d)
	}
}

// checkCommit checks a record of a meta key, the seen'th of its transaction, whose commit count
// so far is count (0: no commit record yet): it must be the transaction's one commit record,
// with a count of at least seen.
func checkCommit(rec record, seen, count int) *damage {
	n, _, ok := parseCommit(rec.value)
	switch {
	case rec.key != commitKey || rec.del:
		return &damage{rec.start, fmt.Sprintf("unexpected record of key %q", rec.key)}
	case count != 0:
		return &damage{rec.start, "two commit records in one transaction"}
	case !ok || n < seen:
		return &damage{rec.vat, fmt.Sprintf("commit record %q as record %d of its transaction", rec.value, seen)}
	}
	return nil
}

// isHeaderPrefix reports whether the whole file is a proper prefix of the header.
func isHeaderPrefix(f *os.File) bool {
	st, err := f.Stat()
	if err != nil || st.Size() >= int64(len(header)) {
		return false
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil {
		return false
	}
	return bytes.HasPrefix(header, b)
}

func writeHeader(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(header, 0); err != nil {
		return err
	}
	return f.Sync()
}

// truncate cuts the file back to end, dropping the torn transaction that begins there.
func truncate(f *os.File, path string, end int64, rc recovery) (recovery, error) {
	st, err := f.Stat()
	if err != nil {
		return rc, fmt.Errorf("buntdb: open %s: %w", path, err)
	}
	if err := f.Truncate(end); err != nil {
		return rc, fmt.Errorf("buntdb: open %s: truncate a torn last transaction at offset %d: %w", path, end, err)
	}
	if err := f.Sync(); err != nil {
		return rc, fmt.Errorf("buntdb: open %s: sync after truncating: %w", path, err)
	}
	rc.end, rc.truncated = end, max(st.Size()-end, 0)
	return rc, nil
}

// containsCommit reports whether the file holds the commit key's bytes at or after off.
func containsCommit(f *os.File, off int64) (bool, error) {
	needle := []byte(commitKey)
	buf := make([]byte, 1<<20)
	carry := 0 // bytes kept from the last chunk, so a needle across two chunks is found
	for {
		n, err := f.ReadAt(buf[carry:], off)
		total := carry + n
		if bytes.Contains(buf[:total], needle) {
			return true, nil
		}
		off += int64(n)
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		carry = min(len(needle)-1, total)
		copy(buf, buf[total-carry:total])
	}
}
