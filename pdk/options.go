package pdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// DecodeOptions decodes a driver's options (abi.Hello.Options: a manifest's "options", by
// convention a JSON object) into v, strictly: an unknown field, a value of the wrong type or
// anything after the object is an error naming it. Empty options (nothing but white space)
// leave v as it is. Driver artifacts' open functions call it, so every driver reads its
// options by the same rules.
func DecodeOptions(raw []byte, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("options %s: %w", raw, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("options %s: data after the object", raw)
	}
	return nil
}
