// Package dgadata reads the DGA training material: ../shared/data (DGA
// families and benign names) and Debian's wamerican word list. Only the
// training and evaluation commands use it; the product never reads it.
package dgadata

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fluxhunt/fluxhunt/detect/dga"
)

// DefaultWords is where Debian's wamerican package puts its word list.
const DefaultWords = "/usr/share/dict/american-english"

// SharedDir returns $FLUXHUNT_SHARED, or ../shared beside the repository
// root (found from the working directory by looking for go.mod).
func SharedDir() (string, error) {
	if d := os.Getenv("FLUXHUNT_SHARED"); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "..", "shared"), nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("dgadata: no go.mod above the working directory; set FLUXHUNT_SHARED")
		}
	}
}

// RepoRoot returns the directory holding go.mod above the working directory.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("dgadata: no go.mod above the working directory")
		}
	}
}

// ReadLines reads non-empty, non-comment lines of a file, trimmed.
func ReadLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// Load reads the corpus from shared (the ../shared directory) and words.
func Load(shared, words string) (*dga.Corpus, error) {
	c := &dga.Corpus{}
	var err error
	if c.Benign, err = ReadLines(filepath.Join(shared, "data", "benign", "alexa_top100k_2013.txt")); err != nil {
		return nil, fmt.Errorf("dgadata: benign names: %w", err)
	}
	if c.Words, err = ReadLines(words); err != nil {
		return nil, fmt.Errorf("dgadata: word list (install Debian's wamerican): %w", err)
	}
	train, err := filepath.Glob(filepath.Join(shared, "data", "dga", "train", "*.txt"))
	if err != nil {
		return nil, err
	}
	if len(train) == 0 {
		return nil, fmt.Errorf("dgadata: no DGA families under %s", filepath.Join(shared, "data", "dga", "train"))
	}
	sort.Strings(train)
	for _, p := range train {
		name := strings.TrimSuffix(filepath.Base(p), ".txt")
		f := dga.Family{Name: name}
		if f.Train, err = ReadLines(p); err != nil {
			return nil, fmt.Errorf("dgadata: %w", err)
		}
		vp := filepath.Join(shared, "data", "dga", "validation", name+".txt")
		if _, serr := os.Stat(vp); serr == nil {
			if f.Validation, err = ReadLines(vp); err != nil {
				return nil, fmt.Errorf("dgadata: %w", err)
			}
		}
		c.Families = append(c.Families, f)
	}
	return c, nil
}
