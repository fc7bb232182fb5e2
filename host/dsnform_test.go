package host

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/pdk"
	"github.com/dockyard/dockyard/store"
)

// TestManifestDSNForm: every form is read for a plugin, the directory and empty forms for
// wasm, and a manifest without the field declares none.
func TestManifestDSNForm(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "m.wasm"), emptyModule, 0o644)
	writeFile(t, filepath.Join(dir, "plugin.sh"), []byte(pluginScript), 0o755)
	wasm := goodFields("f", "m.wasm", sha256Hex(emptyModule))
	plugin := wasm.set("transport", q("plugin")).set("artifact", q("plugin.sh")).set("sha256", q(sha256Hex([]byte(pluginScript))))
	for _, c := range []struct {
		f    fields
		want pdk.DSNForm
	}{
		{wasm, ""},
		{wasm.set("dsn_form", q("dir")), pdk.DSNDir},
		{wasm.set("dsn_form", q("empty")), pdk.DSNEmpty},
		{wasm.set("dsn_form", q("server")), pdk.DSNServer},
		{plugin.set("dsn_form", q("file")), pdk.DSNFile},
		{plugin.set("dsn_form", q("server")), pdk.DSNServer},
		{plugin.set("dsn_form", q("dir")), pdk.DSNDir},
	} {
		path := filepath.Join(dir, "f.json")
		writeFile(t, path, []byte(c.f.String()), 0o644)
		m, err := ReadManifest(path)
		if err != nil || m.DSNForm != c.want {
			t.Errorf("ReadManifest of\n%s= %+v, %v; want DSNForm %q", c.f, m, err, c.want)
			continue
		}
		// Written back by encoding/json, the field is there when declared and only then.
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if has := strings.Contains(string(b), `"dsn_form":`); has != (c.want != "") {
			t.Errorf("json.Marshal of a manifest with DSNForm %q: %s", c.want, b)
		}
	}

	// A Manifest built in code is checked too.
	m := &Manifest{Name: uniqueName("code"), Transport: TransportWasm, Artifact: filepath.Join(dir, "m.wasm"),
		SHA256: sha256Hex(emptyModule), ABI: "1.0", DSNForm: "file"}
	_, err := m.Open(context.Background(), "", quiet)
	var me *ManifestError
	if !errors.As(err, &me) || me.Field != "dsn_form" {
		t.Errorf("Manifest{DSNForm: %q}.Open = %v; want a ManifestError on dsn_form", m.DSNForm, err)
	}
}

// TestLoadDirDeclaresDSNForm: LoadDir declares a manifest's DSN form with the driver's name
// (pdk.DSNOf) and reports it in Loaded; a manifest without one declares nothing; loading the
// name again with another form is refused, naming dsn_form.
func TestLoadDirDeclaresDSNForm(t *testing.T) {
	declared, undeclared := uniqueName("declared"), uniqueName("undeclared")
	dir := driverDir(t, undeclared)
	_, sum := inmemWasm(t)
	path := filepath.Join(dir, declared+".json")
	writeFile(t, path, []byte(goodFields(declared, "inmem.wasm", sum).set("dsn_form", q("empty")).String()), 0o644)
	loaded, err := LoadDir(context.Background(), dir, quiet)
	if err != nil || len(loaded) != 2 {
		t.Fatalf("LoadDir = %+v, %v", loaded, err)
	}
	for _, l := range loaded {
		want := map[string]pdk.DSNForm{declared: pdk.DSNEmpty, undeclared: ""}[l.Name]
		if l.DSNForm != want {
			t.Errorf("Loaded %s: DSNForm %q, want %q", l.Name, l.DSNForm, want)
		}
	}
	if f, ok := pdk.DSNOf(declared); !ok || f != pdk.DSNEmpty {
		t.Errorf("pdk.DSNOf(%q) = %q, %v; want empty, declared by the manifest", declared, f, ok)
	}
	if f, ok := pdk.DSNOf(undeclared); ok {
		t.Errorf("pdk.DSNOf(%q) = %q: a manifest without dsn_form declared a form", undeclared, f)
	}
	s, err := store.Open(context.Background(), declared, "")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	writeFile(t, path, []byte(goodFields(declared, "inmem.wasm", sum).set("dsn_form", q("dir")).String()), 0o644)
	_, err = LoadDir(context.Background(), dir, quiet)
	var me *ManifestError
	if !errors.As(err, &me) || me.Field != "dsn_form" || !errors.Is(err, store.ErrDuplicateDriver) {
		t.Errorf("LoadDir with another dsn_form for %s: %v; want ErrDuplicateDriver naming dsn_form", declared, err)
	}
	if f, _ := pdk.DSNOf(declared); f != pdk.DSNEmpty {
		t.Errorf("a refused reload changed the declared form to %q", f)
	}
}
