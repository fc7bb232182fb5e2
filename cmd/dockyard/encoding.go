package main

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// decodeArg decodes a namespace, key or prefix given on the command line: hex when asked
// (--hex-ns for the namespace, --hex-keys for the others), else the argument's bytes as they are.
func decodeArg(what, s string, hexKeys bool) (string, error) {
	if !hexKeys {
		return s, nil
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		flag := "--hex-keys"
		if what == "namespace" {
			flag = "--hex-ns"
		}
		return "", usagef("%s %q is not hex (%s): %v", what, s, flag, err)
	}
	return string(b), nil
}

// decodeHexValue decodes a --hex value, ignoring white space (so `xxd -p` output works).
func decodeHexValue(b []byte) ([]byte, error) {
	clean := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, string(b))
	v, err := hex.DecodeString(clean)
	if err != nil {
		return nil, usagef("value is not hex (--hex): %v", err)
	}
	return v, nil
}

// encodeBytes is how JSON output carries bytes (keys, values, namespaces): base64 (standard
// alphabet, padded), or lower-case hex with --hex.
func encodeBytes(b []byte, useHex bool) string {
	if useHex {
		return hex.EncodeToString(b)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// display is how text output shows a namespace, key or value: as it is when it is printable
// UTF-8 without tabs or line breaks, does not start with a double quote and neither starts nor
// ends with a space, else Go-quoted ("\x00dockyard/migrations", "ada "). Either way one line
// holds it, unambiguously: a space at either end would be invisible, and a leading quote
// would read as quoting.
func display(s string) string {
	if s == "" {
		return `""`
	}
	if !utf8.ValidString(s) || s[0] == '"' || s[0] == ' ' || s[len(s)-1] == ' ' {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || r == '\t' {
			return strconv.Quote(s)
		}
	}
	return s
}
