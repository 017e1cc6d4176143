package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func init() {
	// -update rewrites golden files; registered here only if no other test
	// file of the package did.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func runScore(t *testing.T, stdin string, args ...string) (stdout, stderr string, rc int) {
	t.Helper()
	var out, errb bytes.Buffer
	rc = dispatch(context.Background(), &env{args: append([]string{"score"}, args...), stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb})
	return out.String(), errb.String(), rc
}

func TestScoreGolden(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "score", "input.txt"))
	if err != nil {
		t.Fatal(err)
	}
	out, errs, rc := runScore(t, string(in))
	if rc != exitOK || errs != "" {
		t.Fatalf("rc %d, stderr %q", rc, errs)
	}
	golden := filepath.Join("testdata", "score", "output.golden")
	if updateGolden() {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("output differs from %s (run with -update after checking):\n%s", golden, out)
	}
	// contract checks independent of the golden file
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	inLines := 0
	for _, l := range strings.Split(string(in), "\n") {
		if s := strings.TrimSpace(l); s != "" && !strings.HasPrefix(s, "#") {
			inLines++
		}
	}
	if len(lines) != inLines {
		t.Errorf("%d output lines for %d scorable input lines", len(lines), inLines)
	}
	for _, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) != 4 {
			t.Errorf("line %q: %d fields, want 4", l, len(f))
			continue
		}
		switch f[2] {
		case "skip":
			if f[1] != "-" {
				t.Errorf("line %q: skip with a score", l)
			}
		case "dga", "benign":
			if f[1] == "-" {
				t.Errorf("line %q: verdict without a score", l)
			}
		default:
			t.Errorf("line %q: verdict %q", l, f[2])
		}
		if f[3] == "" {
			t.Errorf("line %q: no reason", l)
		}
	}
}

func TestScoreLongLines(t *testing.T) {
	for _, n := range []int{64*1024 - 1, 64 * 1024, 64*1024 + 1, 3 << 20} {
		long := strings.Repeat("a", n)
		out, _, rc := runScore(t, "google.com\n"+long+".com\nexample.org\n")
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if rc != exitOK || len(lines) != 3 {
			t.Fatalf("n=%d: rc %d, %d lines", n, rc, len(lines))
		}
		if !strings.HasPrefix(lines[0], "google.com\t") || !strings.HasPrefix(lines[2], "example.org\t") {
			t.Errorf("n=%d: neighbours of the long line damaged", n)
		}
		if !strings.Contains(lines[1], "\t-\tskip\tinvalid") {
			t.Errorf("n=%d: long line gives %.80q...", n, lines[1][len(lines[1])-120:])
		}
	}
}

func TestScoreFilesAndExitCodes(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(a, []byte("google.com\r\nxjkqzvbnmwqtp.biz\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, rc := runScore(t, "", filepath.Join(dir, "missing.txt"), a)
	if rc != exitConfig {
		t.Errorf("unreadable file: rc %d, want %d", rc, exitConfig)
	}
	if !strings.Contains(errs, "missing.txt") {
		t.Errorf("stderr %q does not name the file", errs)
	}
	if !strings.HasPrefix(out, "google.com\t") || strings.Count(out, "\n") != 2 {
		t.Errorf("the readable file was not scored after the unreadable one: %q", out)
	}
	// thresholds
	out, _, rc = runScore(t, "google.com\n", "--threshold", "0")
	if rc != exitOK || !strings.Contains(out, "\tdga\t") {
		t.Errorf("--threshold 0: rc %d, %q", rc, out)
	}
	out, _, rc = runScore(t, "xjkqzvbnmwqtp.biz\n", "--threshold", "1.0000001")
	if rc != exitConfig {
		t.Errorf("--threshold out of range: rc %d, %q", rc, out)
	}
	// bad input never stops the run
	out, _, rc = runScore(t, "\x00\n\xff\n1.2.3.4\nfoo\n..\nexample.com\n")
	if rc != exitOK || strings.Count(out, "\n") != 6 || !strings.HasPrefix(out, "\\x00\t-\tskip") {
		t.Errorf("bad input: rc %d, %q", rc, out)
	}
}

func TestAppendScore(t *testing.T) {
	for _, v := range []float64{0, 1, 0.5, 0.12345, 0.99995, 0.99994999, 0.00005, 0.00004999, 1e-9, 0.3333333, 0.98765432} {
		want := strconv.FormatFloat(v, 'f', 4, 64)
		if got := string(appendScore(nil, v)); got != want {
			t.Errorf("appendScore(%v) = %s, want %s", v, got, want)
		}
	}
}
