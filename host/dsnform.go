package host

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dockyard/dockyard/pdk"
)

// decodeDSNForm decodes a manifest's dsn_form member: a string; which one, checkDSNForm
// decides (validate calls it, for manifests built in code too).
func decodeDSNForm(raw json.RawMessage) (pdk.DSNForm, error) {
	var form string
	if err := unmarshalString(raw, &form); err != nil {
		return "", err
	}
	if form == "" { // "" in a Manifest means "not declared"; in a file, the field is left out
		return "", errors.New(`must not be empty: leave the field out for the transport's default (a directory)`)
	}
	return pdk.DSNForm(form), nil
}

// checkDSNForm checks a manifest's dsn_form ("" when it has none) for its transport: a wasm
// driver's host gives it a directory (mounted at /data) or nothing, never a file or a server.
func checkDSNForm(transport string, form pdk.DSNForm) error {
	if form == "" {
		return nil
	}
	if _, err := pdk.ParseDSNForm(string(form)); err != nil {
		return err
	}
	if transport == TransportWasm && form != pdk.DSNDir && form != pdk.DSNEmpty {
		return fmt.Errorf("%q is not a DSN form of the wasm transport: a wasm driver's DSN is a directory its host mounts at /data, or empty (want %q or %q)",
			form, pdk.DSNDir, pdk.DSNEmpty)
	}
	return nil
}
