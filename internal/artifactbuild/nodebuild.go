package artifactbuild

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// esbuildVersion is the esbuild of go.mod, part of the cache key: another bundler version
// makes another bundle.
const esbuildVersion = "v0.28.2"

// ErrNoNodeModules is wrapped by BuildNode's error when the plugin's npm dependencies are not
// installed: `make deps` installs them (npm ci).
var ErrNoNodeModules = errors.New("node_modules is missing: run `make deps` (npm ci in the plugin's directory)")

// BuildNode bundles the Node.js plugin whose entry point is entry (plugin.js in a directory
// holding package.json, package-lock.json and node_modules) with everything it requires, npm
// dependencies included, into one CommonJS file for Node 20, and returns its path. One file is
// the point: a manifest's sha256 then pins all of the plugin's code, which runs from a sealed
// copy of that file, where a plugin spread over node_modules would load unpinned files at
// run time.
//
// The bundle is cached as Build's modules are, keyed by esbuild's version and the content of
// the plugin's own files (every .js and .json beside entry, not in node_modules) and of
// node_modules/.package-lock.json, which npm rewrites whenever it changes what is installed.
func BuildNode(entry string) (string, error) {
	abs, err := filepath.Abs(entry)
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(abs)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err != nil {
		return "", fmt.Errorf("artifactbuild: %s: %w", dir, ErrNoNodeModules)
	}
	key, err := nodeHash(dir, filepath.Base(abs))
	if err != nil {
		return "", fmt.Errorf("artifactbuild: hash sources: %w", err)
	}
	cache, err := cacheDir()
	if err != nil {
		return "", err
	}
	out := filepath.Join(cache, key[:32], strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs))+".bundle.js")
	err = cached(out, func(tmp string) error {
		res := api.Build(api.BuildOptions{
			EntryPoints:   []string{abs},
			AbsWorkingDir: dir,
			Bundle:        true,
			Platform:      api.PlatformNode,
			Format:        api.FormatCommonJS,
			Target:        api.ES2022,
			Outfile:       tmp,
			Write:         true,
			LegalComments: api.LegalCommentsEndOfFile,
			LogLevel:      api.LogLevelSilent,
		})
		if len(res.Errors) > 0 {
			msgs := api.FormatMessages(res.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage})
			return fmt.Errorf("artifactbuild: esbuild %s: %s", abs, strings.Join(msgs, ""))
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return out, nil
}

// nodeHash hashes what BuildNode's bundle is made from (see BuildNode).
func nodeHash(dir, entry string) (string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "node_modules" {
			return fs.SkipDir
		}
		if ext := filepath.Ext(p); !d.IsDir() && (ext == ".js" || ext == ".json") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	files = append(files, filepath.Join(dir, "node_modules", ".package-lock.json"))
	slices.Sort(files)
	h := sha256.New()
	fmt.Fprintf(h, "node\x00%s\x00%s\x00", esbuildVersion, entry)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		rel, _ := filepath.Rel(dir, f)
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(rel), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
