package newmodule_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/artifactbuild"
	"github.com/dockyard/dockyard/internal/pgtest"
	"github.com/dockyard/dockyard/store"
)

// TestMain stops internal/pgtest's throwaway PostgreSQL server, if a test started one.
func TestMain(m *testing.M) { pgtest.Main(m) }

// module is this repository's module path, which the new module requires.
const module = "github.com/dockyard/dockyard"

// mainGo is the new module's whole program, as a new user writes it from README.md ("Using
// it", "DSNs") and `go doc ./store` (MigrationSet): no import of package host, nor of a
// transport; the artifacts' drivers come from importing host/autoload.
const mainGo = `// Command newapp opens every store its command line names, one DRIVER:DSN string each,
// migrates it, writes one key, reads it back and prints one line per store.
package main

import (
	"context"
	"fmt"
	"os"

	_ "github.com/dockyard/dockyard/drivers/postgres" // registers "postgres"
	_ "github.com/dockyard/dockyard/drivers/sqlite"   // registers "sqlite"
	_ "github.com/dockyard/dockyard/host/autoload"    // the drivers of $DOCKYARD_DRIVERS
	"github.com/dockyard/dockyard/store"
)

func main() {
	ctx := context.Background()
	for _, driverDSN := range os.Args[1:] {
		if err := use(ctx, driverDSN); err != nil {
			fmt.Fprintf(os.Stderr, "newapp: %v\n", err)
			os.Exit(1)
		}
	}
}

// migrations is the application's schema: one forward-only step.
func migrations() (*store.MigrationSet, error) {
	return store.NewMigrationSet().Add(store.Migration{
		ID: "0001_greetings",
		Up: func(ctx context.Context, tx store.Tx) error {
			return tx.Put("greetings", "version", []byte("1"))
		},
	})
}

func use(ctx context.Context, driverDSN string) (err error) {
	driver, _, err := store.SplitDSN(driverDSN)
	if err != nil {
		return err
	}
	s, err := store.OpenDSN(ctx, driverDSN)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.Close(); err == nil {
			err = cerr
		}
	}()

	set, err := migrations()
	if err != nil {
		return err
	}
	if err := s.Migrate(ctx, set); err != nil {
		return fmt.Errorf("%s: migrate: %w", driver, err)
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.Put("greetings", "hello", []byte("hello from "+driver))
	})
	if err != nil {
		return fmt.Errorf("%s: update: %w", driver, err)
	}
	var hello, version []byte
	err = s.View(ctx, func(tx store.Tx) error {
		var err error
		if hello, err = tx.Get("greetings", "hello"); err != nil {
			return err
		}
		version, err = tx.Get("greetings", "version")
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: view: %w", driver, err)
	}
	fmt.Printf("%s: hello = %q, version = %q\n", driver, hello, version)
	return nil
}
`

// allowedImports is everything main.go may import: the seam, the two in-process drivers, the
// loader, and the standard library it uses.
var allowedImports = map[string]bool{
	"context": true, "fmt": true, "os": true,
	module + "/store": true, module + "/drivers/sqlite": true, module + "/drivers/postgres": true,
	module + "/host/autoload": true,
}

// TestNewModule builds the program above as a module of its own and opens through it sqlite,
// a wasm driver, a plugin driver and PostgreSQL, one DRIVER:DSN string each.
func TestNewModule(t *testing.T) {
	checkSource(t)
	app := buildApp(t)
	drivers := driversDir(t)

	t.Run("sqlite, wasm, plugin", func(t *testing.T) {
		data := t.TempDir()
		runApp(t, app, drivers,
			"sqlite:"+filepath.Join(data, "app.db"),
			"kv-wasm:"+t.TempDir(),
			"sqlite-plugin:"+filepath.Join(data, "plugin.db"))
	})

	t.Run("mistakes", func(t *testing.T) {
		// A mistyped driver: the error is ErrUnknownDriver's, and lists the drivers there are,
		// the compiled-in ones and those of DOCKYARD_DRIVERS alike.
		stderr := failApp(t, app, drivers, "sqlit:"+filepath.Join(t.TempDir(), "app.db"))
		want := store.ErrUnknownDriver.Error() + `: "sqlit" (registered: [`
		if !strings.Contains(stderr, want) {
			t.Errorf("mistyped driver: stderr %q does not contain %q", stderr, want)
		}
		for _, name := range []string{"kv-wasm", "postgres", "sqlite", "sqlite-plugin"} {
			if !strings.Contains(stderr, strconv.Quote(name)) {
				t.Errorf("mistyped driver: stderr %q does not name the known driver %q", stderr, name)
			}
		}

		// A path without its driver: ErrInvalidDSN, showing the form wanted.
		stderr = failApp(t, app, drivers, "app.db")
		for _, want := range []string{store.ErrInvalidDSN.Error(), `"app.db" has no ':'`, `want e.g. "sqlite:./data/app.db"`} {
			if !strings.Contains(stderr, want) {
				t.Errorf("no ':': stderr %q does not contain %q", stderr, want)
			}
		}
	})

	t.Run("with postgres", func(t *testing.T) {
		dsn := pgtest.DSN(t) // no server: a loud skip, a failure under CI=true
		data := t.TempDir()
		runApp(t, app, drivers,
			"sqlite:"+filepath.Join(data, "app.db"),
			"kv-wasm:"+t.TempDir(),
			"sqlite-plugin:"+filepath.Join(data, "plugin.db"),
			"postgres:"+dsn)
	})
}

// checkSource checks that mainGo is gofmt'd and imports nothing but allowedImports: no
// package host, no transport.
func checkSource(t *testing.T) {
	t.Helper()
	if formatted, err := format.Source([]byte(mainGo)); err != nil {
		t.Fatalf("main.go: %v", err)
	} else if string(formatted) != mainGo {
		t.Errorf("main.go is not gofmt'd; gofmt'd it is:\n%s", formatted)
	}
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", mainGo, parser.ImportsOnly)
	if err != nil {
		t.Fatalf("main.go: %v", err)
	}
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if !allowedImports[p] {
			t.Errorf("main.go imports %s: a new user's program needs only the seam, its drivers and host/autoload", p)
		}
	}
}

// goEnv is the go command's environment for the new module: nothing downloaded (the module
// cache has every dependency), no workspace, no toolchain switch, no -race from the test's
// own GOFLAGS.
func goEnv() []string {
	return append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
}

// buildApp writes the new module into a temporary directory and builds it with the go
// command, returning the program's path.
func buildApp(t *testing.T) string {
	t.Helper()
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := goDirective(t, filepath.Join(repo, "go.mod"))
	dir := t.TempDir()
	goMod := fmt.Sprintf("module example.com/newapp\n\ngo %s\n\nrequire %s v0.0.0\n\nreplace %s => %s\n",
		goVersion, module, module, repo)
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum")) // the checksums of the modules it needs
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"go.mod": []byte(goMod), "go.sum": sum, "main.go": []byte(mainGo)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	app := filepath.Join(dir, "newapp")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", app, ".")
	cmd.Dir, cmd.Env, cmd.WaitDelay = dir, goEnv(), 10*time.Second
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build in the new module (go.mod:\n%s): %v\n%s", goMod, err, out)
	}
	t.Logf("built the new module in %v", time.Since(start).Round(time.Millisecond))
	return app
}

// goDirective returns the go version that the go.mod at path declares, so that the new module
// declares the same.
func goDirective(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go ([0-9][0-9.]*)\s*$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s: no go directive", path)
	}
	return string(m[1])
}

// driversDir builds plugins/inmem as a wasm module and plugins/sqlite as a plugin binary,
// copies them into a new drivers directory, and writes a manifest beside each, as
// docs/manifest.md describes.
func driversDir(t *testing.T) string {
	t.Helper()
	wasm, err := artifactbuild.Build("../../plugins/inmem")
	if err != nil {
		t.Fatalf("build plugins/inmem as wasm: %v", err)
	}
	plugin, err := artifactbuild.BuildPlugin("../../plugins/sqlite")
	if err != nil {
		t.Fatalf("build plugins/sqlite as a plugin: %v", err)
	}
	dir := t.TempDir()
	install(t, dir, wasm, "kv.wasm", 0o644, "kv-wasm", "wasm", "dir")
	install(t, dir, plugin, "dockyard-sqlite", 0o755, "sqlite-plugin", "plugin", "file")
	return dir
}

// install copies the artifact src into dir as file, and writes the manifest NAME.json for it.
func install(t *testing.T, dir, src, file string, mode os.FileMode, name, transport, dsnForm string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), data, mode); err != nil {
		t.Fatal(err)
	}
	manifest := fmt.Sprintf(`{
  "name": %q,
  "transport": %q,
  "artifact": %q,
  "sha256": "%x",
  "abi": "1.0",
  "dsn_form": %q
}
`, name, transport, file, sha256.Sum256(data), dsnForm)
	if err := os.WriteFile(filepath.Join(dir, name+".json"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
}

// command is the program run on args with DOCKYARD_DRIVERS set to drivers.
func command(ctx context.Context, app, drivers string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := exec.CommandContext(ctx, app, args...)
	cmd.Env = append(os.Environ(), "DOCKYARD_DRIVERS="+drivers)
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

// runApp runs the program on the DRIVER:DSN strings args and checks it printed, for each in
// order, the value it put and the one its migration put.
func runApp(t *testing.T, app, drivers string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd, stdout, stderr := command(ctx, app, drivers, args...)
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("newapp %q: %v\nstdout:\n%s\nstderr:\n%s", args, err, stdout, stderr)
	}
	t.Logf("newapp ran in %v:\n%s", time.Since(start).Round(time.Millisecond), stdout)
	if stderr.Len() != 0 {
		t.Logf("newapp's stderr:\n%s", stderr)
	}
	if strings.Contains(stderr.String(), "not loaded") {
		t.Errorf("a driver of DOCKYARD_DRIVERS was not loaded:\n%s", stderr)
	}
	var want []string
	for _, arg := range args {
		driver, _, _ := strings.Cut(arg, ":")
		want = append(want, fmt.Sprintf("%s: hello = %q, version = %q", driver, "hello from "+driver, "1"))
	}
	got := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("newapp printed:\n%s\nwant:\n%s", stdout, strings.Join(want, "\n"))
	}
}

// failApp runs the program on args, checks it failed with exit status 1 and printed nothing
// on stdout, and returns its stderr.
func failApp(t *testing.T, app, drivers string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd, stdout, stderr := command(ctx, app, drivers, args...)
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("newapp %q = %v, want exit status 1\nstdout:\n%s\nstderr:\n%s", args, err, stdout, stderr)
	}
	if stdout.Len() != 0 {
		t.Errorf("newapp %q printed on stdout:\n%s", args, stdout)
	}
	return stderr.String()
}
