package main

// The files manifest write reads and writes: --options, where the manifest goes, the path of
// its artifact, and the atomic write.

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dockyard/dockyard/host"
	"github.com/dockyard/dockyard/store"
)

// parseOptions checks an --options value is a JSON object and returns it.
func parseOptions(s string) (json.RawMessage, error) {
	var v any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, usagef("--options %q: not JSON: %v", s, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, usagef("--options %q: more than one JSON value", s)
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, usagef("--options %q: want a JSON object ({...}), the driver's options", s)
	}
	return json.RawMessage(strings.TrimSpace(s)), nil
}

// manifestOutPath is where manifest write writes: -o (a file, or a directory to write NAME.json
// in), else NAME.json beside the artifact (as the command line names it). A file name that a
// drivers directory would not load is a usage error.
func manifestOutPath(out, artifact, name string) (string, error) {
	if out == "" {
		return filepath.Join(filepath.Dir(artifact), name+".json"), nil
	}
	if fi, err := os.Stat(out); err == nil && fi.IsDir() {
		return filepath.Join(out, name+".json"), nil
	}
	if base := filepath.Base(out); !isManifestName(base) {
		return "", usagef("-o %s: a drivers directory loads only files named *.json that do not start with '.': this one would be ignored", out)
	}
	return out, nil
}

// isManifestName reports whether a file of this name in a drivers directory is a manifest to
// host.LoadDir: it ends in ".json" and does not start with ".".
func isManifestName(name string) bool {
	return strings.HasSuffix(name, ".json") && !strings.HasPrefix(name, ".")
}

// artifactRel is the manifest's "artifact": the artifact's path relative to the manifest's
// directory, slash-separated, or its absolute path when there is none (another volume).
func artifactRel(manifest, artifactPath string) string {
	dir, err := filepath.Abs(filepath.Dir(manifest))
	if err != nil {
		return artifactPath
	}
	rel, err := filepath.Rel(dir, artifactPath)
	if err != nil {
		return artifactPath
	}
	return filepath.ToSlash(rel)
}

// builtinDriver reports whether name is a driver compiled into this program (registered with
// package store, and not by a manifest).
func builtinDriver(name string) bool {
	if !slices.Contains(store.Drivers(), name) {
		return false
	}
	for _, l := range host.Registered() {
		if l.Name == name {
			return false
		}
	}
	return true
}

// writeAtomic writes data to path through a hidden temporary file in path's directory (which a
// drivers directory ignores), renamed into place once complete and, if check is not nil,
// checked: check gets the temporary file's path, and an error from it writes nothing.
func writeAtomic(path string, data []byte, perm os.FileMode, check func(tmp string) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, perm)
	}
	if err == nil && check != nil {
		err = check(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
