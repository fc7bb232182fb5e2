package pdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// DecodeOptions decodes a driver's options (abi.Hello.Options: a manifest's "options", a JSON
// object) into v, a driver's options value, strictly: anything but an object, an unknown
// field, a value of the wrong type or anything after the object is an error, and an error of
// one field names it and its value ("option busy_timeout \"soon\": ..."). Fields the object
// does not name keep the values v had, so decode onto the driver's defaults. Empty options
// (nothing but white space) leave v as it is. Last, if v has a method Validate() error (every
// driver's options value does), its error is returned: an invalid value is an error naming the
// option, never ignored or replaced by a default. Driver artifacts' open functions call it, so
// every driver reads its options by the same rules.
func DecodeOptions(raw []byte, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil {
		return fmt.Errorf("options %s: %w", raw, err)
	}
	if fields == nil {
		return fmt.Errorf("options %s: not a JSON object", raw)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("options %s: data after the object", raw)
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names { // one field at a time, so that an error can name it
		one, err := json.Marshal(map[string]json.RawMessage{name: fields[name]})
		if err != nil {
			return fmt.Errorf("option %s: %w", name, err)
		}
		dec := json.NewDecoder(bytes.NewReader(one))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			return fmt.Errorf("option %s %s: %w", name, fields[name], err)
		}
	}
	if val, ok := v.(interface{ Validate() error }); ok {
		return val.Validate()
	}
	return nil
}

// Duration is a time.Duration that a driver's options write as a Go duration string ("5s",
// "1m30s").
type Duration time.Duration

// UnmarshalJSON decodes a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("want a duration string such as \"5s\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON encodes the duration as its string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }
