package dga_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/fluxhunt/fluxhunt/detect/dga"
	"github.com/fluxhunt/fluxhunt/detect/dga/internal/dgadata"
	"github.com/fluxhunt/fluxhunt/internal/testenv"
)

// TestEmbeddedModelReproducible retrains from ../shared and the wamerican
// word list, as `make model` does, and checks that the result is the
// embedded model byte for byte.
func TestEmbeddedModelReproducible(t *testing.T) {
	testenv.Short(t)
	shared := testenv.Shared(t)
	if _, err := os.Stat(dgadata.DefaultWords); err != nil {
		testenv.Missing(t, "Debian's wamerican word list ("+dgadata.DefaultWords+")")
	}
	c, err := dgadata.Load(shared, dgadata.DefaultWords)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := dga.NewTrainer(c, dga.TrainOptions{Version: dga.TrainVersion})
	if err != nil {
		t.Fatal(err)
	}
	_, f, err := tr.Fit("")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("data/model.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("retraining gives %d bytes that differ from the embedded model (%d bytes): run `make model` and commit", buf.Len(), len(want))
	}
}
