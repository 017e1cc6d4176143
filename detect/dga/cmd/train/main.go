// Command train trains the DGA model from ../shared/data and Debian's
// wamerican word list and writes detect/dga/data/model.json.gz (`make model`).
// The output is deterministic: the same inputs give the same bytes.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fluxhunt/fluxhunt/detect/dga"
	"github.com/fluxhunt/fluxhunt/detect/dga/internal/dgadata"
)

func main() {
	os.Exit(run())
}

func run() int {
	shared := flag.String("shared", "", "the shared directory (default $FLUXHUNT_SHARED or ../shared)")
	words := flag.String("words", dgadata.DefaultWords, "word list (Debian wamerican)")
	out := flag.String("out", "", "output file (default detect/dga/data/model.json.gz in the repository)")
	version := flag.String("version", dga.TrainVersion, "model version")
	flag.Parse()
	if *shared == "" {
		d, err := dgadata.SharedDir()
		if err != nil {
			fmt.Fprintln(os.Stderr, "train:", err)
			return 1
		}
		*shared = d
	}
	if *out == "" {
		root, err := dgadata.RepoRoot()
		if err != nil {
			fmt.Fprintln(os.Stderr, "train:", err)
			return 1
		}
		*out = filepath.Join(root, "detect", "dga", "data", "model.json.gz")
	}
	c, err := dgadata.Load(*shared, *words)
	if err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		return 1
	}
	t, err := dga.NewTrainer(c, dga.TrainOptions{Version: *version})
	if err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		return 1
	}
	m, f, err := t.Fit("")
	if err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		return 1
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		return 1
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "train: wrote %s (%d bytes), version %s, threshold %.6f, %d training names dropped (not scorable or benign traps)\n",
		*out, buf.Len(), m.Version(), m.Threshold(), t.Dropped)
	return 0
}
