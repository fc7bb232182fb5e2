package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/dockyard/dockyard/host"
	"github.com/spf13/cobra"
)

func (a *app) manifestVerifyCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify DIR",
		Short: "Verify every manifest of a drivers directory, as the loader would",
		Long: `verify checks every manifest of the drivers directory DIR as host.LoadDir does when it loads
it, and registers nothing: a manifest is a file directly in DIR named *.json, not starting with
'.' (everything else is ignored, as the loader ignores it), checked in file name order for
every field (unknown ones and repeated ones included), its ABI major against this host's, its
options (a JSON object), its artifact (present, a regular file of the manifest's transport),
the artifact's sha256 against the manifest's, a wasm module compiled, and names that two
manifests of DIR declare both.

One line per manifest, OK or BAD with what is wrong, then a count; warnings (a name compiled
into dockyard, a file others may write, which the loader warns of) follow their manifest's
line. --json prints one object instead. A driver's behaviour is conform's business.

Exit codes: 0 every manifest is good (or there is none); 1 a manifest is bad, or DIR cannot be
read; 2 usage error.`,
		Example: `  dockyard manifest verify ./drivers
  dockyard manifest verify "$HOME/.local/share/dockyard/drivers" --json`,
		Args: args(cobra.ExactArgs(1)),
		RunE: a.action(func(cmd *cobra.Command, argv []string) error {
			dir := argv[0]
			out, err := a.verifyDir(cmd.Context(), dir)
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(a.stdout, out); err != nil {
					return err
				}
			} else {
				for _, m := range out.Manifests {
					if m.OK {
						form := ""
						if m.DSNForm != "" {
							form = ", DSN form " + m.DSNForm
						}
						fmt.Fprintf(a.stdout, "OK   %s: driver %s, transport %s, ABI %s%s, artifact %s, sha256 %s\n", m.Manifest, m.Name, m.Transport, m.ABI, form, m.Artifact, m.SHA256)
					} else {
						fmt.Fprintf(a.stdout, "BAD  %s\n", m.Error)
					}
					for _, w := range m.Warnings {
						fmt.Fprintf(a.stdout, "     warning: %s\n", w)
					}
				}
				if len(out.Manifests) == 0 {
					fmt.Fprintf(a.stdout, "no manifests in %s (files named *.json, not starting with '.')\n", dir)
				} else {
					fmt.Fprintf(a.stdout, "%d ok, %d bad\n", out.OK, out.Bad)
				}
			}
			if err := cmd.Context().Err(); err != nil {
				return fmt.Errorf("manifest verify interrupted: %w", err)
			}
			if out.Bad > 0 {
				return fmt.Errorf("manifest verify %s: %d of %d manifests bad", dir, out.Bad, len(out.Manifests))
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print a JSON object {"dir": ..., "manifests": [...], "ok": N, "bad": M}`)
	return cmd
}

// verifyDir checks every manifest of dir as host.LoadDir would, registering nothing.
func (a *app) verifyDir(ctx context.Context, dir string) (verifyDirJSON, error) {
	out := verifyDirJSON{Dir: dir, Manifests: []manifestVerifyJSON{}}
	fi, err := os.Stat(dir)
	if err == nil && !fi.IsDir() {
		return out, fmt.Errorf("drivers directory %s: not a directory (verify takes a drivers directory; dockyard conform checks one manifest)", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return out, fmt.Errorf("drivers directory: %w", err)
	}
	seen := map[string]string{} // driver name -> manifest declaring it
	for _, e := range entries {
		if !isManifestName(e.Name()) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		r := a.verifyManifest(ctx, dir, filepath.Join(dir, e.Name()), seen)
		if r.OK {
			out.OK++
		} else {
			out.Bad++
		}
		out.Manifests = append(out.Manifests, r)
	}
	return out, nil
}

// verifyManifest checks the manifest at path as host.LoadDir would: read and validated, its
// name not declared by an earlier manifest of the directory, its artifact verified and, for
// wasm, compiled.
func (a *app) verifyManifest(ctx context.Context, dir, path string, seen map[string]string) manifestVerifyJSON {
	r := manifestVerifyJSON{Manifest: path, Warnings: []string{}}
	bad := func(err error) manifestVerifyJSON {
		r.Error = err.Error()
		var me *host.ManifestError
		if errors.As(err, &me) {
			r.Field = me.Field
		}
		return r
	}
	m, err := host.ReadManifest(path)
	if err != nil {
		return bad(err)
	}
	r.Name, r.Transport, r.Artifact, r.SHA256, r.ABI, r.DSNForm = m.Name, m.Transport, m.ArtifactPath(), m.SHA256, m.ABI, string(m.DSNForm)
	if other, dup := seen[m.Name]; dup {
		return bad(&host.ManifestError{Path: path, Field: "name", Err: fmt.Errorf("driver %q is declared by %s too: one name, one manifest per directory", m.Name, other)})
	}
	seen[m.Name] = path
	p, err := m.Prepare(ctx, host.WithLogger(a.logger))
	if err != nil {
		return bad(err)
	}
	p.Close()
	r.OK = true
	if builtinDriver(m.Name) {
		r.Warnings = append(r.Warnings, fmt.Sprintf("driver %q is also compiled into dockyard: dockyard, and a program that compiles that driver in, refuse this manifest", m.Name))
	}
	r.Warnings = append(r.Warnings, writableByOthers(dir, path, r.Artifact)...)
	return r
}

// writableByOthers warns of each path that users other than its owner may write, as the loader
// does: whoever can write the directory or the manifest can point the driver at another
// artifact and pin its sha256. Windows has no such permission bits.
func writableByOthers(paths ...string) []string {
	if runtime.GOOS == "windows" {
		return nil
	}
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm()&0o022 == 0 {
			continue
		}
		who := "group"
		if fi.Mode().Perm()&0o002 != 0 {
			who = "world"
		}
		out = append(out, fmt.Sprintf("%s is %s-writable (mode %v): anyone who can write it can change which code runs (the loader warns, or refuses under host.WithRefuseWritable)", p, who, fi.Mode().Perm()))
	}
	return out
}
