package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dockyard/dockyard/host"
	"github.com/dockyard/dockyard/store"
	"github.com/spf13/cobra"
)

func (a *app) manifestWriteCommand() *cobra.Command {
	var name, dsnFormFlag, dsn, options, out string
	var force, asJSON bool
	cmd := &cobra.Command{
		Use:   "write ARTIFACT",
		Short: "Write the manifest of a driver artifact",
		Long: `write writes the manifest of a driver artifact, a WebAssembly module or a plugin binary, so
that a drivers directory can load it and conform check it:

  - transport: told from the file's content, as the loader tells it (a file starting with the
    WebAssembly magic \0asm is "wasm", an executable file "plugin"; anything else is refused);
  - sha256: the artifact's;
  - abi: the version the artifact speaks, as its driver reports it in the ABI handshake: write
    opens the driver once, on a throwaway DSN of --dsn-form made in a fresh temporary
    directory (removed afterwards), or on --dsn for a driver whose DSN names a server;
  - name: --name, else the artifact's file name without its extension;
  - artifact: the artifact's path relative to the manifest's directory;
  - options: --options, a JSON object handed to the driver in the handshake (in write's own
    handshake too).

The manifest has no sandbox: every limit is at its default (add them by hand, see
docs/manifest.md). It goes beside the artifact as NAME.json, the name a drivers directory loads
(a file *.json not starting with '.'), unless -o names another file or a directory to put
NAME.json in. It is written under a hidden temporary name and renamed into place, so a drivers
directory never holds it half written. An existing manifest is replaced only with --force (its
sandbox and options are lost then; manifest update changes its sha256 alone). write prints the
path it wrote.

A name that is a driver compiled into dockyard (inmem, sqlite, ...) is written with a warning:
dockyard, and any program that compiles that driver in, refuses such a manifest.

Exit codes: 0 written; 1 the artifact is missing or not a driver (not wasm, not executable, a
module that does not compile, a program that is no plugin, an ABI major other than this
host's), or the manifest exists already; 2 usage error (a bad --name, --options, --dsn-form or
-o).`,
		Example: `  dockyard manifest write ./drivers/inmem.wasm --name inmem-wasm
  dockyard manifest write ./bin/dockyard-sqlite --name sqlite-plugin --dsn-form file -o ./drivers/
  dockyard manifest write ./bin/dockyard-postgres --dsn 'host=db user=app dbname=scratch'
  dockyard manifest write ./drivers/kv.wasm --options '{"page_size": 512}' --force --json`,
		Args: args(cobra.ExactArgs(1)),
		RunE: a.action(func(cmd *cobra.Command, argv []string) error {
			form, err := parseDSNForm(dsnFormFlag, dsnDir)
			if err != nil {
				return err
			}
			if dsn != "" && cmd.Flags().Changed("dsn-form") {
				return usagef("--dsn and --dsn-form: give one (--dsn-form makes a throwaway DSN, --dsn is the DSN to use)")
			}
			var opts json.RawMessage
			if cmd.Flags().Changed("options") {
				if opts, err = parseOptions(options); err != nil {
					return err
				}
			}
			return a.writeManifest(cmd.Context(), argv[0], writeSpec{
				name: name, nameGiven: cmd.Flags().Changed("name"), form: form, dsn: dsn,
				options: opts, out: out, force: force, asJSON: asJSON,
			})
		}),
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "register the driver as `NAME` (default: the artifact's file name without its extension)")
	f.StringVar(&dsnFormFlag, "dsn-form", "auto", "what a DSN of the driver is, for the handshake's throwaway DSN: auto (a directory), empty, file (a file path) or dir (a directory)")
	f.StringVar(&dsn, "dsn", "", "open the driver on `DSN` for the handshake instead of a throwaway DSN (a driver whose DSN names a server)")
	f.StringVar(&options, "options", "", "the manifest's options, a `JSON` object handed to the driver")
	f.StringVarP(&out, "output", "o", "", "write the manifest to `PATH` (a *.json file, or a directory to write NAME.json in; default: beside the artifact)")
	f.BoolVar(&force, "force", false, "replace an existing manifest")
	f.BoolVar(&asJSON, "json", false, "print a JSON object describing the manifest written")
	return cmd
}

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

// writeSpec is what manifest write was asked.
type writeSpec struct {
	name      string
	nameGiven bool
	form      dsnForm
	dsn       string
	options   json.RawMessage
	out       string
	force     bool
	asJSON    bool
}

// writeManifest writes the manifest of the artifact at path.
func (a *app) writeManifest(ctx context.Context, path string, w writeSpec) error {
	m, err := host.Inspect(path)
	if err != nil {
		return err
	}
	artifactPath := m.ArtifactPath()
	if w.nameGiven {
		m.Name = w.name
	}
	mf := manifestFile{Name: m.Name, Transport: m.Transport, SHA256: m.SHA256, ABI: m.ABI, Options: w.options}
	// The checks of the manifest's content that need no handshake, made first.
	if err := checkManifestContent(mf, w.nameGiven, path); err != nil {
		return err
	}
	out, err := manifestOutPath(w.out, path, mf.Name)
	if err != nil {
		return err
	}
	if fi, err := os.Lstat(out); err == nil && !w.force {
		what := "a manifest"
		if !fi.Mode().IsRegular() {
			what = fmt.Sprintf("a %v", fi.Mode().Type())
		}
		return fmt.Errorf("%s exists (%s): --force replaces it, losing its sandbox and options; `dockyard manifest update %s` changes its sha256 alone", out, what, out)
	}
	mf.Artifact = artifactRel(out, artifactPath)

	// The ABI version, from the artifact's own handshake.
	m.Options = w.options
	p, err := m.Prepare(ctx, host.WithLogger(a.logger))
	if err != nil {
		return err
	}
	defer p.Close()
	dsn, remove := w.dsn, func() {}
	if dsn == "" {
		if dsn, remove, err = dirDSNs(w.form, "")(); err != nil {
			return err
		}
	}
	reply, err := p.Handshake(ctx, dsn)
	remove()
	if err != nil {
		hint := ""
		if w.dsn == "" {
			hint = fmt.Sprintf(" (its driver was opened on a throwaway DSN of form %s; a driver that wants another needs --dsn-form, or --dsn for a server)", w.form)
		}
		return fmt.Errorf("read the ABI version from the artifact's handshake: %w%s", err, hint)
	}
	mf.ABI = fmt.Sprintf("%d.%d", reply.Major, reply.Minor)
	if err := checkManifestContent(mf, w.nameGiven, path); err != nil {
		return err
	}

	data, err := json.MarshalIndent(mf, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if err := writeAtomic(out, data, 0o644, func(tmp string) error {
		// What was written must load: read it back as the loader does, artifact and all.
		if _, err := host.ReadManifest(tmp); err != nil {
			return fmt.Errorf("the manifest written does not read back: %w", err)
		}
		return nil
	}); err != nil {
		return err
	}
	if builtinDriver(mf.Name) {
		a.logger.Warn("manifest write: the driver's name is a driver compiled into dockyard: dockyard, and a program that compiles that driver in, refuse this manifest (choose another with --name)",
			"name", mf.Name, "manifest", out)
	}
	if w.asJSON {
		return writeJSON(a.stdout, manifestWriteJSON{Manifest: out, Name: mf.Name, Transport: mf.Transport, Artifact: mf.Artifact,
			SHA256: mf.SHA256, ABI: mf.ABI, Options: mf.Options, Driver: reply.Name, DriverVersion: reply.Version})
	}
	fmt.Fprintf(a.stdout, "wrote %s: driver %s, transport %s, ABI %s, artifact %s, sha256 %s\n",
		out, mf.Name, mf.Transport, mf.ABI, mf.Artifact, mf.SHA256)
	fmt.Fprintf(a.stdout, "the artifact's handshake: ABI %s, driver %q, version %q\n", mf.ABI, reply.Name, reply.Version)
	return nil
}

// checkManifestContent checks mf as the loader checks a manifest's content (host's own parse):
// a bad name or options is the command line's fault, if the flag gave it.
func checkManifestContent(mf manifestFile, nameGiven bool, artifact string) error {
	if mf.Artifact == "" {
		mf.Artifact = filepath.Base(artifact) // any non-empty path: the file is checked later
	}
	data, err := json.Marshal(mf)
	if err != nil {
		return err
	}
	var m host.Manifest
	err = json.Unmarshal(data, &m)
	var me *host.ManifestError
	if err == nil || !errors.As(err, &me) {
		return err
	}
	switch {
	case me.Field == "name" && nameGiven:
		return usagef("--name %q: %v", mf.Name, me.Err)
	case me.Field == "name":
		return fmt.Errorf("artifact %s: its file name makes the driver name %q: %v; give one with --name", artifact, mf.Name, me.Err)
	case me.Field == "options" || strings.HasPrefix(me.Field, "options."):
		return usagef("--options: %v", me.Err)
	}
	return fmt.Errorf("artifact %s: field %q: %w", artifact, me.Field, me.Err)
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
