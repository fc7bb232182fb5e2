package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dockyard/dockyard/host"
	"github.com/dockyard/dockyard/internal/regfile"
	"github.com/spf13/cobra"
)

func (a *app) manifestUpdateCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "update MANIFEST...",
		Short: "Update the sha256 of manifests after their artifacts were rebuilt",
		Long: `update sets each manifest's sha256 to its artifact's, after the artifact was rebuilt, and
changes nothing else: the rest of the file stays as it is, byte for byte. The manifest must be
valid otherwise (every field, the artifact present and of the manifest's transport). A
manifest whose sum is right already is left alone. Each is rewritten under a hidden temporary
name and renamed into place, keeping its permissions. update prints, for each, the old and the
new sum ("old -> new"), or that it is unchanged.

A process that has the driver loaded already runs the old artifact until it restarts.

Exit codes: 0 every manifest updated or unchanged; 1 a manifest could not be updated (the
others are); 2 usage error.`,
		Example: `  dockyard manifest update ./drivers/kv.json
  dockyard manifest update ./drivers/*.json --json`,
		Args: args(cobra.MinimumNArgs(1)),
		RunE: a.action(func(cmd *cobra.Command, argv []string) error {
			var results []manifestUpdateJSON
			failed := 0
			for _, path := range argv {
				r, err := updateManifest(path)
				if err != nil {
					failed++
					r.Error = err.Error()
					if !asJSON {
						fmt.Fprintf(a.stderr, "dockyard: %v\n", err)
					}
				} else if !asJSON {
					if r.Updated {
						fmt.Fprintf(a.stdout, "%s: sha256 %s -> %s\n", path, r.OldSHA256, r.NewSHA256)
					} else {
						fmt.Fprintf(a.stdout, "%s: sha256 unchanged, %s\n", path, r.NewSHA256)
					}
				}
				results = append(results, r)
			}
			if asJSON {
				if err := writeJSON(a.stdout, struct {
					Manifests []manifestUpdateJSON `json:"manifests"`
				}{results}); err != nil {
					return err
				}
			}
			if failed > 0 {
				return fmt.Errorf("manifest update: %d of %d manifests not updated", failed, len(argv))
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print a JSON object {"manifests": [...]}, each with its old and new sha256`)
	return cmd
}

// updateManifest sets the sha256 of the manifest at path to its artifact's.
func updateManifest(path string) (manifestUpdateJSON, error) {
	r := manifestUpdateJSON{Manifest: path}
	m, err := host.ReadManifest(path)
	if err != nil {
		return r, err
	}
	r.OldSHA256 = m.SHA256
	im, err := host.Inspect(m.ArtifactPath())
	if err != nil {
		return r, fmt.Errorf("%s: field \"artifact\": %w", path, err)
	}
	if im.Transport != m.Transport {
		return r, fmt.Errorf("%s: field \"artifact\": artifact %q is now a %s artifact, the manifest's transport is %q: not updated", path, m.Artifact, im.Transport, m.Transport)
	}
	r.NewSHA256 = im.SHA256
	if r.NewSHA256 == r.OldSHA256 {
		return r, nil
	}
	// Rewrite the file itself, where a symbolic link points, with its permissions.
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	data, err := regfile.ReadFile(real, host.MaxManifestSize)
	if err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	updated, err := replaceSHA256(data, r.NewSHA256)
	if err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	if err := sameButSHA256(data, updated); err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	if err := writeAtomic(real, updated, fi.Mode().Perm(), nil); err != nil {
		return r, err
	}
	r.Updated = true
	return r, nil
}

// replaceSHA256 returns the manifest data with the value of its top-level "sha256" member
// replaced by sum, every other byte as it was.
func replaceSHA256(data []byte, sum string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keyEnd := int(dec.InputOffset())
		if key != "sha256" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
			continue
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		end := int(dec.InputOffset())
		start := bytes.IndexByte(data[keyEnd:end], '"')
		if start < 0 {
			return nil, errors.New(`field "sha256" is not a string`)
		}
		start += keyEnd
		out := make([]byte, 0, len(data)-(end-start)+len(sum)+2)
		out = append(out, data[:start]...)
		out = append(out, '"')
		out = append(out, sum...)
		out = append(out, '"')
		return append(out, data[end:]...), nil
	}
	return nil, errors.New(`no field "sha256"`)
}

// sameButSHA256 checks that the manifest after differs from before in its sha256 alone, both
// read by host's parser.
func sameButSHA256(before, after []byte) error {
	var mb, ma host.Manifest
	if err := json.Unmarshal(before, &mb); err != nil {
		return err
	}
	if err := json.Unmarshal(after, &ma); err != nil {
		return fmt.Errorf("the updated manifest does not read back: %w", err)
	}
	ma.SHA256 = mb.SHA256
	jb, err1 := json.Marshal(&mb)
	ja, err2 := json.Marshal(&ma)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if !bytes.Equal(jb, ja) {
		return errors.New("the update would change more than the sha256: not written (a bug)")
	}
	return nil
}
