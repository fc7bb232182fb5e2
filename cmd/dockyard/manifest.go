package main

// The manifest command: write a driver artifact's manifest, update its sha256 after a rebuild,
// and verify a drivers directory, all through package host, so that what is written and checked
// is exactly what host.LoadDir and conform read.

import (
	"encoding/json"

	"github.com/spf13/cobra"
)

// manifestFile is a manifest as manifest write writes it: the fields of docs/manifest.md in
// their order there, with no sandbox (every limit at its default, to be added by hand).
type manifestFile struct {
	Name      string          `json:"name"`
	Transport string          `json:"transport"`
	Artifact  string          `json:"artifact"`
	SHA256    string          `json:"sha256"`
	ABI       string          `json:"abi"`
	DSNForm   string          `json:"dsn_form,omitempty"`
	Options   json.RawMessage `json:"options,omitempty"`
}

// manifestWriteJSON is the output of manifest write --json.
type manifestWriteJSON struct {
	Manifest      string          `json:"manifest"` // the path written
	Name          string          `json:"name"`
	Transport     string          `json:"transport"`
	Artifact      string          `json:"artifact"` // as the manifest has it: relative to its directory
	SHA256        string          `json:"sha256"`
	ABI           string          `json:"abi"`
	DSNForm       string          `json:"dsn_form,omitempty"` // "" when none is declared
	Options       json.RawMessage `json:"options,omitempty"`
	Driver        string          `json:"driver"`         // the name the artifact's driver declares in the handshake
	DriverVersion string          `json:"driver_version"` // the version it declares
}

// manifestUpdateJSON is one manifest in manifest update --json.
type manifestUpdateJSON struct {
	Manifest  string `json:"manifest"`
	OldSHA256 string `json:"old_sha256,omitempty"`
	NewSHA256 string `json:"new_sha256,omitempty"`
	Updated   bool   `json:"updated"` // the file was rewritten (false: unchanged, or an error)
	Error     string `json:"error,omitempty"`
}

// manifestVerifyJSON is one manifest in manifest verify --json.
type manifestVerifyJSON struct {
	Manifest  string   `json:"manifest"`
	OK        bool     `json:"ok"`
	Name      string   `json:"name,omitempty"`
	Transport string   `json:"transport,omitempty"`
	Artifact  string   `json:"artifact,omitempty"` // absolute
	SHA256    string   `json:"sha256,omitempty"`
	ABI       string   `json:"abi,omitempty"`
	DSNForm   string   `json:"dsn_form,omitempty"`
	Field     string   `json:"field,omitempty"` // the field at fault, when one is
	Error     string   `json:"error,omitempty"`
	Warnings  []string `json:"warnings"`
}

// verifyDirJSON is the output of manifest verify --json.
type verifyDirJSON struct {
	Dir       string               `json:"dir"`
	Manifests []manifestVerifyJSON `json:"manifests"`
	OK        int                  `json:"ok"`
	Bad       int                  `json:"bad"`
}

func (a *app) manifestCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "manifest <write | update | verify>",
		Short: "Write, update and verify driver manifests",
		Long: `manifest writes the manifest of a driver artifact (a .wasm module or a plugin binary), updates a
manifest's sha256 after the artifact is rebuilt, and verifies every manifest of a drivers
directory as the loader would (docs/manifest.md describes the format).

  manifest write ARTIFACT    a manifest beside the artifact: its sha256, its transport, and the
                             ABI version the artifact reports in its own handshake
  manifest update MANIFEST   the sha256 of each manifest's artifact, and nothing else
  manifest verify DIR        every manifest of a drivers directory, checked as host.LoadDir
                             checks it, nothing registered

Exit codes: 0 success; 1 the operation failed (an artifact that is not a driver, a bad
manifest); 2 usage error.`,
		Example: `  dockyard manifest write ./drivers/kv.wasm --name kv
  dockyard manifest update ./drivers/*.json
  dockyard manifest verify ./drivers --json`,
		Args: args(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if len(argv) > 0 {
				return usagef("unknown command %q for %q (want write, update or verify)", argv[0], cmd.CommandPath())
			}
			cmd.SetOut(a.stderr)
			_ = cmd.Help()
			return usagef("no manifest command given (write, update or verify)")
		},
	}
	cmd.AddCommand(a.manifestWriteCommand(), a.manifestUpdateCommand(), a.manifestVerifyCommand())
	return cmd
}
