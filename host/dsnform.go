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
// driver's host gives it a directory (mounted at /data), nothing, or a server's DSN unchanged
// (which the driver reaches through sandbox.connect), never a file.
func checkDSNForm(transport string, form pdk.DSNForm) error {
	if form == "" {
		return nil
	}
	if _, err := pdk.ParseDSNForm(string(form)); err != nil {
		return err
	}
	if transport == TransportWasm && form == pdk.DSNFile {
		return fmt.Errorf("%q is not a DSN form of the wasm transport: a wasm driver's DSN is a directory its host mounts at /data, a server's (handed to the driver unchanged), or empty (want %q, %q or %q)",
			form, pdk.DSNDir, pdk.DSNServer, pdk.DSNEmpty)
	}
	return nil
}
