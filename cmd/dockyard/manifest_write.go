package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dockyard/dockyard/host"
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
    opens the driver once, on --dsn if given (a driver whose DSN names a server needs it),
    else on a throwaway DSN of --dsn-form made in a fresh temporary directory (removed
    afterwards);
  - dsn_form: --dsn-form, what a DSN of the driver names: empty (ignored), file (a file's
    path), dir (a directory) or server (a server's address or URL; the handshake needs
    --dsn then). conform and the other tools make and check DSNs of that form. With auto, the
    default, the manifest declares none and tools take a directory, as for any artifact
    without one (the handshake too). A wasm driver's DSN is a directory or empty;
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
-o, --dsn-form server without --dsn).`,
		Example: `  dockyard manifest write ./drivers/inmem.wasm --name inmem-wasm
  dockyard manifest write ./bin/dockyard-sqlite --name sqlite-plugin --dsn-form file -o ./drivers/
  dockyard manifest write ./bin/dockyard-postgres --dsn-form server --dsn 'host=db user=app dbname=scratch'
  dockyard manifest write ./drivers/kv.wasm --options '{"page_size": 512}' --force --json`,
		Args: args(cobra.ExactArgs(1)),
		RunE: a.action(func(cmd *cobra.Command, argv []string) error {
			form, err := parseDSNForm(dsnFormFlag, "") // "": declare none
			if err != nil {
				return err
			}
			if form == dsnServer && dsn == "" {
				return usagef("--dsn-form server: no throwaway DSN can name a server: give the handshake's with --dsn DSN")
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
	f.StringVar(&dsnFormFlag, "dsn-form", "auto", "the manifest's dsn_form, what a DSN of the driver is: auto (none declared: a directory), empty, file (a file path), dir (a directory) or server")
	f.StringVar(&dsn, "dsn", "", "open the driver on `DSN` for the handshake instead of a throwaway DSN (needed for a driver whose DSN names a server)")
	f.StringVar(&options, "options", "", "the manifest's options, a `JSON` object handed to the driver")
	f.StringVarP(&out, "output", "o", "", "write the manifest to `PATH` (a *.json file, or a directory to write NAME.json in; default: beside the artifact)")
	f.BoolVar(&force, "force", false, "replace an existing manifest")
	f.BoolVar(&asJSON, "json", false, "print a JSON object describing the manifest written")
	return cmd
}

// writeSpec is what manifest write was asked.
type writeSpec struct {
	name      string
	nameGiven bool
	form      dsnForm // the manifest's dsn_form; "" for none
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
	mf := manifestFile{Name: m.Name, Transport: m.Transport, SHA256: m.SHA256, ABI: m.ABI, DSNForm: string(w.form), Options: w.options}
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
	dsn, remove, handshakeForm := w.dsn, func() {}, w.form
	if handshakeForm == "" {
		handshakeForm = dsnDir // what a tool takes an undeclared form for
	}
	if dsn == "" {
		if dsn, remove, err = dirDSNs(handshakeForm, "")(); err != nil {
			return err
		}
	}
	reply, err := p.Handshake(ctx, dsn)
	remove()
	if err != nil {
		hint := ""
		if w.dsn == "" {
			hint = fmt.Sprintf(" (its driver was opened on a throwaway DSN of form %s; a driver that wants another needs --dsn-form, or --dsn for a server)", handshakeForm)
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
			SHA256: mf.SHA256, ABI: mf.ABI, DSNForm: mf.DSNForm, Options: mf.Options, Driver: reply.Name, DriverVersion: reply.Version})
	}
	fmt.Fprintf(a.stdout, "wrote %s: driver %s, transport %s, ABI %s, artifact %s, sha256 %s\n",
		out, mf.Name, mf.Transport, mf.ABI, mf.Artifact, mf.SHA256)
	if mf.DSNForm != "" {
		fmt.Fprintf(a.stdout, "DSN form: %s\n", mf.DSNForm)
	} else {
		fmt.Fprintf(a.stdout, "DSN form: none declared (tools take a directory; --dsn-form declares one)\n")
	}
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
	case me.Field == "dsn_form":
		return usagef("--dsn-form %s: %v", mf.DSNForm, me.Err)
	}
	return fmt.Errorf("artifact %s: field %q: %w", artifact, me.Field, me.Err)
}
