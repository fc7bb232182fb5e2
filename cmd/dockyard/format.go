package main

import (
	"encoding/hex"
	"time"
)

// fmtDuration is how text output shows every duration, latencies and running times alike
// (bench's table and summary, copy's summary, conform's cases): three significant digits
// (1.23ms, 456µs, 12.3s), as people read them and as precise as the measurements are (the
// histogram's buckets are 1.6% wide; a wall-clock time varies more than that from run to
// run). One helper, so no command prints 1.234567891ms. --json keeps the nanoseconds.
func fmtDuration(d time.Duration) string { return roundDuration(d).String() }

// roundDuration keeps three significant digits of d.
func roundDuration(d time.Duration) time.Duration {
	abs := d
	if abs < 0 {
		abs = -abs
	}
	for unit := time.Duration(1); unit < time.Hour; unit *= 10 {
		if abs < 1000*unit {
			return d.Round(unit)
		}
	}
	return d.Round(time.Second)
}

// showKey and showNS are how text output (listings, summaries, error messages) shows a key and
// a namespace of a command that takes them as arguments: in the form the arguments take, so
// that what is printed can be given back, hex with --hex-keys (keys) or --hex-ns (the
// namespace), each on its own, else as display shows it. A command without those flags (copy,
// namespaces, migrations) shows them as display does.
func (f *keyFlags) showKey(k string) string { return showBytes(k, f.hexKeys) }

func (f *keyFlags) showNS(ns string) string { return showBytes(ns, f.hexNS) }

// showBytes is display, or lower-case hex when asHex: the one key format of text output.
func showBytes(s string, asHex bool) string {
	if asHex && s != "" { // empty is "" in either form, never nothing at all
		return hex.EncodeToString([]byte(s))
	}
	return display(s)
}
