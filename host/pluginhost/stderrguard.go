package pluginhost

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// go-plugin reads a plugin's stderr line by line and parses every line that is JSON as an
// hclog record, asserting that "@message", "@level" and "@timestamp" are strings without
// checking (go-plugin v1.8.0, parseJSON): a plugin that writes {"@message":1} panics the
// goroutine that reads its stderr, and so the whole host. stderrGuard stands between the
// plugin's stderr and go-plugin and turns such a line into plain text, which go-plugin logs
// as an ordinary line; every other byte passes unchanged.

// guardLineMax is the longest line stderrGuard checks. go-plugin parses only lines that fit
// its buffer (PluginLogBufferSize, 64 KiB by default); a longer line reaches it in pieces it
// never parses, so the guard passes those through unchecked, and this must stay above
// go-plugin's buffer.
const guardLineMax = 256 << 10

// stderrGuard is the io.ReadCloser go-plugin reads a plugin's stderr from.
type stderrGuard struct {
	src  io.Closer
	r    *bufio.Reader
	out  []byte // what Read has still to hand out
	long bool   // inside a line longer than guardLineMax: pass it through
}

func newStderrGuard(rc io.ReadCloser) *stderrGuard {
	return &stderrGuard{src: rc, r: bufio.NewReaderSize(rc, guardLineMax)}
}

func (g *stderrGuard) Read(p []byte) (int, error) {
	for len(g.out) == 0 {
		line, err := g.r.ReadSlice('\n')
		full := errors.Is(err, bufio.ErrBufferFull)
		if len(line) > 0 {
			if !g.long && !full {
				line = defuse(line)
			}
			g.out, g.long = line, full
			break
		}
		if err != nil && !full {
			return 0, err
		}
	}
	n := copy(p, g.out)
	g.out = g.out[n:]
	return n, nil
}

func (g *stderrGuard) Close() error { return g.src.Close() }

// hclogKeys are the members go-plugin takes for strings without checking.
var hclogKeys = []string{"@message", "@level", "@timestamp"}

// defuse returns line, or, if it is a JSON object in which one of hclogKeys is not a string,
// the same line behind a prefix that makes it no JSON, so that go-plugin logs it as text.
func defuse(line []byte) []byte {
	body := bytes.TrimRight(line, "\r\n")
	if len(bytes.TrimSpace(body)) == 0 || bytes.TrimSpace(body)[0] != '{' {
		return line
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &raw) != nil {
		return line
	}
	for _, k := range hclogKeys {
		v, ok := raw[k]
		if !ok {
			continue
		}
		// A string, and nothing else: json.Unmarshal would take null for a string too, and
		// go-plugin's assertion would not.
		var s string
		if v = bytes.TrimSpace(v); len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &s) != nil {
			return append([]byte("[WARN] malformed plugin log record ("+k+" is not a string): "), line...)
		}
	}
	return line
}
