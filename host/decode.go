package host

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/dockyard/dockyard/host/artifact"
)

// The fields of a manifest and of its sandbox object, in the order they are checked.
var (
	manifestFields = []string{"name", "transport", "artifact", "sha256", "abi", "interpreter", "dsn_form", "sandbox", "options"}
	requiredFields = []string{"name", "transport", "artifact", "sha256", "abi"}
	sandboxFields  = []string{"memory_limit", "disk_quota", "call_timeout", "trusted", "env", "read", "write", "connect", "require_containment",
		"max_memory", "max_open_files", "max_processes", "max_cpu_time",
		"max_scan_entries", "max_scan_bytes", "scan_timeout"}
	// pluginOnly are the sandbox members of the plugin transport only.
	pluginOnly = []string{"env", "read", "write", "require_containment",
		"max_memory", "max_processes", "max_cpu_time"}
)

// member is one member of a JSON object.
type member struct {
	key string
	raw json.RawMessage
}

// parseManifest decodes and validates a manifest's content. It decodes strictly: member names
// are matched exactly (encoding/json would match them case-insensitively), an unknown or
// repeated member is an error naming it, every value must have its field's JSON type (null
// included: a null is an error, not "absent"), and nothing but white space may follow the
// object. It reads the object member by member, rather than through DisallowUnknownFields,
// so that every error can name its field, nested ones too.
func parseManifest(path string, data []byte) (*Manifest, error) {
	members, err := readObject(path, "", data, true)
	if err != nil {
		return nil, err
	}
	fields, err := checkMembers(path, "", members, manifestFields)
	if err != nil {
		return nil, err
	}
	for _, f := range requiredFields {
		if _, ok := fields[f]; !ok {
			return nil, fieldErr(path, f, "required field is missing")
		}
	}
	m := &Manifest{Path: path}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"name", &m.Name}, {"transport", &m.Transport}, {"artifact", &m.Artifact}, {"sha256", &m.SHA256}, {"abi", &m.ABI}} {
		if err := unmarshalString(fields[f.name], f.dst); err != nil {
			return nil, &ManifestError{Path: path, Field: f.name, Err: err}
		}
	}
	m.SHA256 = strings.ToLower(m.SHA256)
	if raw, ok := fields["dsn_form"]; ok {
		if m.DSNForm, err = decodeDSNForm(raw); err != nil {
			return nil, &ManifestError{Path: path, Field: "dsn_form", Err: err}
		}
	}
	var sandbox map[string]json.RawMessage
	if raw, ok := fields["sandbox"]; ok {
		if sandbox, err = parseSandbox(path, raw, &m.Sandbox); err != nil {
			return nil, err
		}
	}
	if raw, ok := fields["interpreter"]; ok {
		if err := unmarshalString(raw, &m.Sandbox.Interpreter); err != nil {
			return nil, &ManifestError{Path: path, Field: "interpreter", Err: err}
		}
		if m.Sandbox.Interpreter == "" {
			return nil, fieldErr(path, "interpreter", "must not be empty (leave it out for an artifact that is a program itself)")
		}
	}
	if raw, ok := fields["options"]; ok {
		if len(raw) == 0 || raw[0] != '{' {
			return nil, fieldErr(path, "options", "must be a JSON object, not %s", describeJSON(raw))
		}
		m.Options = append(json.RawMessage(nil), raw...)
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	// validate sees values; here presence matters too: "trusted": false, or any memory_limit,
	// in a plugin manifest says the author expects a setting the plugin transport has not.
	if m.Transport == TransportPlugin {
		for _, f := range []string{"memory_limit", "disk_quota", "trusted"} {
			if _, ok := sandbox[f]; ok {
				return nil, fieldErr(path, "sandbox."+f, "applies to the wasm transport only, not %q", m.Transport)
			}
		}
	} else {
		for _, f := range pluginOnly {
			if _, ok := sandbox[f]; ok {
				return nil, fieldErr(path, "sandbox."+f, "applies to the plugin transport only, not %q", m.Transport)
			}
		}
	}
	return m, nil
}

// parseSandbox decodes the sandbox object into sb and returns its members by name.
func parseSandbox(path string, raw json.RawMessage, sb *Sandbox) (map[string]json.RawMessage, error) {
	members, err := readObject(path, "sandbox", raw, false)
	if err != nil {
		return nil, err
	}
	fields, err := checkMembers(path, "sandbox.", members, sandboxFields)
	if err != nil {
		return nil, err
	}
	for _, b := range []struct {
		name string
		dst  *ByteSize
	}{{"memory_limit", &sb.MemoryLimit}, {"disk_quota", &sb.DiskQuota}, {"max_memory", &sb.MaxMemory}, {"max_scan_bytes", &sb.MaxScanBytes}} {
		if raw, ok := fields[b.name]; ok {
			n, err := parseByteSizeJSON(raw)
			if err == nil && n == 0 {
				err = errors.New("must be positive (leave the field out for the default)")
			}
			if err != nil {
				return nil, &ManifestError{Path: path, Field: "sandbox." + b.name, Err: err}
			}
			*b.dst = n
		}
	}
	if raw, ok := fields["call_timeout"]; ok {
		var s string
		err := unmarshalString(raw, &s)
		if err != nil {
			err = fmt.Errorf("must be a duration string such as \"30s\" or \"1m30s\", not %s", describeJSON(raw))
		} else if sb.CallTimeout, err = time.ParseDuration(s); err != nil {
			err = fmt.Errorf("%q is not a duration: want a Go duration such as \"30s\" or \"1m30s\"", s)
		} else if sb.CallTimeout <= 0 {
			err = fmt.Errorf("%q: must be positive", s)
		} else if sb.CallTimeout < MinCallTimeout || sb.CallTimeout > MaxCallTimeout {
			err = fmt.Errorf("%q: must be between %v and %v", s, MinCallTimeout, MaxCallTimeout)
		}
		if err != nil {
			return nil, &ManifestError{Path: path, Field: "sandbox.call_timeout", Err: err}
		}
	}
	for _, c := range []struct {
		name string
		dst  *int64
	}{{"max_open_files", &sb.MaxOpenFiles}, {"max_processes", &sb.MaxProcesses}, {"max_scan_entries", &sb.MaxScanEntries}} {
		if raw, ok := fields[c.name]; ok {
			if err := json.Unmarshal(raw, c.dst); err != nil || *c.dst <= 0 {
				return nil, fieldErr(path, "sandbox."+c.name, "must be a positive whole number, not %s", describeJSON(raw))
			}
		}
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{"max_cpu_time", &sb.MaxCPUTime}, {"scan_timeout", &sb.ScanTimeout}} {
		if raw, ok := fields[d.name]; ok {
			var s string
			err := unmarshalString(raw, &s)
			if err != nil {
				err = fmt.Errorf("must be a duration string such as \"1h\", not %s", describeJSON(raw))
			} else if *d.dst, err = time.ParseDuration(s); err != nil || *d.dst < time.Second {
				err = fmt.Errorf("%q: want a Go duration of at least 1s, such as \"1h\"", s)
			}
			if err != nil {
				return nil, &ManifestError{Path: path, Field: "sandbox." + d.name, Err: err}
			}
		}
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"trusted", &sb.Trusted}, {"require_containment", &sb.RequireContainment}} {
		name, dst := b.name, b.dst
		if raw, ok := fields[name]; ok {
			switch string(raw) {
			case "true":
				*dst = true
			case "false":
			default:
				return nil, fieldErr(path, "sandbox."+name, "must be true or false, not %s", describeJSON(raw))
			}
		}
	}
	for _, l := range []struct {
		name  string
		dst   *[]string
		check func(string) error
	}{
		{"env", &sb.Env, checkEnvEntry}, {"read", &sb.Read, checkSandboxPath},
		{"write", &sb.Write, checkSandboxPath}, {"connect", &sb.Connect, checkEndpoint},
	} {
		name := l.name
		if raw, ok := fields[name]; ok {
			var list []string
			if err := json.Unmarshal(raw, &list); err != nil || raw[0] != '[' {
				return nil, fieldErr(path, "sandbox."+name, "must be an array of strings, not %s", describeJSON(raw))
			}
			for i, e := range list {
				if err := l.check(e); err != nil {
					return nil, fieldErr(path, fmt.Sprintf("sandbox.%s[%d]", name, i), "%q: %v", e, err)
				}
			}
			*l.dst = list
		}
	}
	return fields, nil
}

// checkMembers refuses unknown and repeated members and returns the members by name.
func checkMembers(path, prefix string, members []member, known []string) (map[string]json.RawMessage, error) {
	fields := make(map[string]json.RawMessage, len(members))
	for _, mb := range members {
		if !contains(known, mb.key) {
			hint := ""
			for _, k := range known {
				if strings.EqualFold(k, mb.key) {
					hint = fmt.Sprintf(" (field names are case-sensitive: did you mean %q?)", k)
				}
			}
			return nil, fieldErr(path, prefix+mb.key, "unknown field%s; known fields are %s", hint, strings.Join(known, ", "))
		}
		if _, dup := fields[mb.key]; dup {
			return nil, fieldErr(path, prefix+mb.key, "appears more than once")
		}
		fields[mb.key] = mb.raw
	}
	return fields, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// readObject reads the members of the JSON object in data, in order. field names the object
// ("" for the manifest itself); top says whether data is a whole file, in which case nothing
// may follow the object.
func readObject(path, field string, data []byte, top bool) ([]member, error) {
	fail := func(f string, err error) error {
		return &ManifestError{Path: path, Field: f, Err: describeSyntax(data, err)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err == io.EOF {
		return nil, &ManifestError{Path: path, Field: field, Err: errors.New("empty: want a JSON object")}
	}
	if err != nil {
		return nil, fail(field, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		what := "a value"
		if ok && d == '[' {
			what = "an array"
		} else if !ok {
			what = describeToken(tok)
		}
		return nil, &ManifestError{Path: path, Field: field, Err: fmt.Errorf("must be a JSON object, not %s", what)}
	}
	prefix := ""
	if field != "" {
		prefix = field + "."
	}
	var members []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fail(field, err)
		}
		key, _ := tok.(string) // the decoder only yields a string here
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fail(prefix+key, err)
		}
		members = append(members, member{key, raw})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, fail(field, err)
	}
	if top {
		off := dec.InputOffset()
		for off < int64(len(data)) && strings.IndexByte(" \t\r\n", data[off]) >= 0 {
			off++
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, &ManifestError{Path: path, Err: fmt.Errorf("trailing data after the JSON object at %s: a manifest holds one object", position(data, off))}
		}
	}
	return members, nil
}

// describeSyntax turns a decoder error into one that says where in the file it happened.
func describeSyntax(data []byte, err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("malformed JSON at %s: %w", position(data, se.Offset), err)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return errors.New("malformed JSON: the file ends inside the object")
	}
	return fmt.Errorf("malformed JSON: %w", err)
}

// position formats a byte offset of data as "line L, column C" (1-based).
func position(data []byte, off int64) string {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return fmt.Sprintf("line %d, column %d", line, col)
}

// unmarshalString decodes a JSON string, refusing every other type (null included).
func unmarshalString(raw []byte, dst *string) error {
	if len(raw) == 0 || raw[0] != '"' {
		return fmt.Errorf("must be a string, not %s", describeJSON(raw))
	}
	return json.Unmarshal(raw, dst)
}

// describeJSON names the type of a JSON value for error messages.
func describeJSON(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch c := raw[0]; {
	case c == '"':
		return "a string"
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	default:
		return "a number"
	}
}

func describeToken(tok json.Token) string {
	switch tok.(type) {
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "a value"
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkEnvEntry checks a sandbox.env entry: NAME (the host's value is passed, if it has one) or
// NAME=value.
func checkEnvEntry(e string) error {
	name, _, _ := strings.Cut(e, "=")
	if !envNameRE.MatchString(name) {
		return errors.New("want NAME or NAME=value, NAME made of letters, digits and '_'")
	}
	if strings.ContainsRune(e, 0) {
		return errors.New("contains a NUL byte")
	}
	return nil
}

// checkSandboxPath checks a sandbox.read or sandbox.write entry: an absolute path.
func checkSandboxPath(p string) error {
	if !filepath.IsAbs(p) || strings.ContainsRune(p, 0) {
		return errors.New("want an absolute path")
	}
	return nil
}

// checkEndpoint checks a sandbox.connect entry: host:port, the port a number.
func checkEndpoint(ep string) error {
	_, err := artifact.EndpointPort(ep)
	return err
}
