package splunkapp

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxhunt/fluxhunt/internal/testenv"
)

// runPackage runs scripts/package-app.sh VERSION into a temporary folder.
func runPackage(t *testing.T, version string) (string, []byte, error) {
	t.Helper()
	bash := testenv.Command(t, "bash")
	testenv.Command(t, "tar")
	testenv.Command(t, "gzip")
	dist := t.TempDir()
	cmd := exec.Command(bash, filepath.Join("..", "scripts", "package-app.sh"), version)
	cmd.Env = append(os.Environ(), "FLUXHUNT_DIST="+dist)
	out, err := cmd.CombinedOutput()
	return filepath.Join(dist, "fluxhunt-"+version+".tar.gz"), out, err
}

func TestPackage(t *testing.T) {
	pkg, out, err := runPackage(t, "1.2.3")
	if err != nil {
		t.Fatalf("package-app.sh: %v\n%s", err, out)
	}
	b, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(h.Name, "fluxhunt/") {
			t.Errorf("%s is outside the folder fluxhunt/", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if h.Mode&0o777 != 0o755 {
				t.Errorf("%s: mode %o, want 755", h.Name, h.Mode)
			}
		case tar.TypeReg:
			if h.Mode&0o777 != 0o644 {
				t.Errorf("%s: mode %o, want 644", h.Name, h.Mode)
			}
			c, _ := io.ReadAll(tr)
			files[strings.TrimPrefix(h.Name, "fluxhunt/")] = string(c)
		default:
			t.Errorf("%s: not a file or folder (type %c)", h.Name, h.Typeflag)
		}
	}
	for _, want := range []string{"default/app.conf", "app.manifest", "README.md", "metadata/default.meta",
		"default/savedsearches.conf", "default/data/ui/views/fluxhunt_overview.xml", "lookups/fluxhunt_fastflux_intel.csv"} {
		if _, ok := files[want]; !ok {
			t.Errorf("package lacks %s", want)
		}
	}
	for name := range files {
		if strings.HasSuffix(name, ".go") || strings.HasPrefix(name, "local/") || strings.HasPrefix(filepath.Base(name), ".") {
			t.Errorf("package holds %s, which is not part of the app", name)
		}
	}
	c, err := ParseConf("app.conf", strings.NewReader(files["default/app.conf"]))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"id", "launcher"} {
		if v, _ := c.Stanza(s).Get("version"); v != "1.2.3" {
			t.Errorf("packaged app.conf [%s] version = %q, want 1.2.3", s, v)
		}
	}
	if !strings.Contains(files["app.manifest"], `"version": "1.2.3"`) {
		t.Error("packaged app.manifest does not carry version 1.2.3")
	}
	// The same tree packs to the same bytes.
	pkg2, out, err := runPackage(t, "1.2.3")
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	b2, _ := os.ReadFile(pkg2)
	if !bytes.Equal(b, b2) {
		t.Error("two runs gave different packages")
	}
}

func TestPackageRejectsBadVersion(t *testing.T) {
	_, out, err := runPackage(t, "1.2")
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "not semantic") {
		t.Errorf("package-app.sh 1.2: err %v, output %q; want exit 2 naming the version", err, out)
	}
}

func TestManifestMatchesAppConf(t *testing.T) {
	app := loadApp(t)
	b, err := os.ReadFile("app.manifest")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		SchemaVersion string `json:"schemaVersion"`
		Info          struct {
			ID struct {
				Name    string `json:"name"`
				Version string `json:"version"`
			} `json:"id"`
			Description string `json:"description"`
		} `json:"info"`
	}
	if err := decodeJSON(b, &m); err != nil {
		t.Fatalf("app.manifest: %v", err)
	}
	id, _ := app.Conf("app").Stanza("package").Get("id")
	ver, _ := app.Conf("app").Stanza("id").Get("version")
	desc, _ := app.Conf("app").Stanza("launcher").Get("description")
	if m.SchemaVersion != "2.0.0" || m.Info.ID.Name != id || m.Info.ID.Version != ver || m.Info.Description != desc {
		t.Errorf("app.manifest (schema %s, id %s %s, %q) disagrees with app.conf (%s %s, %q)", m.SchemaVersion, m.Info.ID.Name, m.Info.ID.Version, m.Info.Description, id, ver, desc)
	}
}

// decodeJSON decodes one JSON value into v and refuses trailing data.
func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}
