package dgadata

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "data", "benign", "alexa_top100k_2013.txt"), "google.com\n\n# comment\n  example.org  \n")
	write(t, filepath.Join(dir, "data", "dga", "train", "fam1.txt"), "abc.com\nxyz.net\n")
	write(t, filepath.Join(dir, "data", "dga", "train", "fam0.txt"), "q.org\n")
	write(t, filepath.Join(dir, "data", "dga", "validation", "fam1.txt"), "def.com\n")
	words := filepath.Join(dir, "words")
	write(t, words, "apple\nApple's\n")
	c, err := Load(dir, words)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Benign, ","); got != "google.com,example.org" {
		t.Errorf("benign = %q", got)
	}
	if len(c.Families) != 2 || c.Families[0].Name != "fam0" || c.Families[1].Name != "fam1" {
		t.Fatalf("families = %+v", c.Families)
	}
	if len(c.Families[0].Validation) != 0 || strings.Join(c.Families[1].Validation, ",") != "def.com" {
		t.Errorf("validation = %+v", c.Families)
	}
	if len(c.Words) != 2 {
		t.Errorf("words = %q", c.Words)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	words := filepath.Join(dir, "words")
	write(t, words, "apple\n")
	if _, err := Load(dir, words); err == nil || !strings.Contains(err.Error(), "benign") {
		t.Errorf("missing benign file: %v", err)
	}
	write(t, filepath.Join(dir, "data", "benign", "alexa_top100k_2013.txt"), "google.com\n")
	if _, err := Load(dir, filepath.Join(dir, "nowords")); err == nil || !strings.Contains(err.Error(), "wamerican") {
		t.Errorf("missing word list: %v", err)
	}
	if _, err := Load(dir, words); err == nil || !strings.Contains(err.Error(), "no DGA families") {
		t.Errorf("no families: %v", err)
	}
}
