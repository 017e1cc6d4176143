package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"unsafe"

	"github.com/fluxhunt/fluxhunt/detect/dga"
	"github.com/fluxhunt/fluxhunt/schema"
)

// maxScoreLine is the longest line kept whole; longer lines are echoed
// truncated (they are never valid names: a name has at most 253 bytes).
const maxScoreLine = 1 << 20

// cmdScore implements `fluxhunt score [--threshold T] [FILE...]` (DESIGN.md):
// one output line per input line that is not blank or a # comment,
// input<TAB>score<TAB>verdict<TAB>reason, in input order.
func cmdScore(ctx context.Context, e *env) int {
	fs := newFlagSet(e, "score", "[--threshold T] [FILE...]")
	thr := fs.Float64("threshold", -1, "decision threshold in [0,1] (default: the model's, FPR 1e-3 on held-out benign names)")
	if rc := parseFlags(fs, e.args); rc >= 0 {
		return rc
	}
	m := dga.Default()
	t := m.Threshold()
	if *thr >= 0 || fs.Lookup("threshold").Value.String() != "-1" {
		if *thr < 0 || *thr > 1 {
			fmt.Fprintf(e.stderr, "fluxhunt score: --threshold %v is outside [0,1]\n", *thr)
			return exitConfig
		}
		t = *thr
	}
	w := bufio.NewWriterSize(e.stdout, 1<<20)
	sc := &scorer{m: m, thr: t, w: w}
	rc := exitOK
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	for _, name := range files {
		if ctx.Err() != nil {
			break
		}
		var r io.Reader
		if name == "-" {
			r = e.stdin
		} else {
			f, err := os.Open(name)
			if err != nil {
				fmt.Fprintf(e.stderr, "fluxhunt score: %v\n", err)
				rc = exitConfig
				continue
			}
			r = f
			defer f.Close()
		}
		if err := sc.stream(ctx, r); err != nil {
			if !errors.Is(err, errWrite) {
				fmt.Fprintf(e.stderr, "fluxhunt score: %s: %v\n", name, err)
				rc = exitConfig
				continue
			}
			fmt.Fprintf(e.stderr, "fluxhunt score: %v\n", err)
			return exitFail
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(e.stderr, "fluxhunt score: write: %v\n", err)
		return exitFail
	}
	return rc
}

var errWrite = errors.New("write output")

type scorer struct {
	m    *dga.Model
	thr  float64
	w    *bufio.Writer
	num  []byte
	long []byte // accumulates lines longer than the reader's buffer
}

// stream scores every line of r.
func (s *scorer) stream(ctx context.Context, r io.Reader) error {
	br := bufio.NewReaderSize(r, 1<<16)
	for n := 0; ; n++ {
		if n&0xffff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		line, err := br.ReadSlice('\n')
		truncated := 0
		if errors.Is(err, bufio.ErrBufferFull) {
			s.long = append(s.long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				if room := maxScoreLine - len(s.long); room > 0 {
					s.long = append(s.long, line[:min(room, len(line))]...)
					truncated += len(line) - min(room, len(line))
				} else {
					truncated += len(line)
				}
			}
			line = s.long
		}
		if len(line) > 0 {
			if werr := s.line(line, truncated); werr != nil {
				return fmt.Errorf("%w: %v", errWrite, werr)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (s *scorer) line(raw []byte, truncated int) error {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 || b[0] == '#' {
		return nil
	}
	// The string aliases the read buffer only for the duration of this call:
	// neither the score nor the reason keeps it.
	in := unsafe.String(&b[0], len(b))
	var res dga.Result
	if truncated > 0 {
		res = dga.Result{Skip: true, Reason: fmt.Sprintf("invalid: line of %d bytes (echoed truncated to %d)", len(b)+truncated, len(b))}
	} else {
		res = s.m.Score(in)
	}
	w := s.w
	if printableASCII(b) {
		w.Write(b)
	} else {
		w.WriteString(schema.EscapeDisplay(in))
	}
	w.WriteByte('\t')
	switch {
	case res.Skip:
		w.WriteString("-\tskip\t")
		// skip reasons may quote the input
		w.WriteString(schema.EscapeDisplay(res.Reason))
	default:
		s.num = appendScore(s.num[:0], res.Score)
		w.Write(s.num)
		if res.Score >= s.thr {
			w.WriteString("\tdga\t")
		} else {
			w.WriteString("\tbenign\t")
		}
		w.WriteString(res.Reason) // constant texts of the model
	}
	return w.WriteByte('\n')
}

// printableASCII reports whether b needs no escaping.
func printableASCII(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// appendScore formats a score in [0,1] with 4 decimals, like
// strconv.AppendFloat(dst, v, 'f', 4, 64) but without its general machinery.
func appendScore(dst []byte, v float64) []byte {
	if !(v >= 0 && v <= 1) {
		return strconv.AppendFloat(dst, v, 'f', 4, 64)
	}
	x := v * 10000
	if math.Abs(x-math.Floor(x)-0.5) < 1e-6 {
		// near a rounding tie: let strconv decide exactly
		return strconv.AppendFloat(dst, v, 'f', 4, 64)
	}
	n := int(x + 0.5)
	return append(dst, byte('0'+n/10000), '.', byte('0'+n/1000%10), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
}
