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
	"runtime"
	"strconv"
	"sync"
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
	thr := fs.String("threshold", "", "decision threshold `T` in [0,1] (default: the model's, FPR 1e-3 on held-out benign names)")
	if rc := parseFlags(fs, e.args); rc >= 0 {
		return rc
	}
	m := dga.Default()
	t := m.Threshold()
	if *thr != "" {
		v, err := strconv.ParseFloat(*thr, 64)
		if err != nil || !(v >= 0 && v <= 1) {
			fmt.Fprintf(e.stderr, "fluxhunt score: --threshold %q: want a number in [0,1]\n", *thr)
			return exitConfig
		}
		t = v
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
		var r io.Reader = e.stdin
		var f *os.File
		if name != "-" {
			var err error
			if f, err = os.Open(name); err != nil {
				fmt.Fprintf(e.stderr, "fluxhunt score: %v\n", err)
				rc = exitConfig
				continue
			}
			r = f
		}
		err := sc.stream(ctx, r)
		if f != nil {
			f.Close()
		}
		if err != nil {
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
	m   *dga.Model
	thr float64
	w   *bufio.Writer
}

// Lines are scored in batches by up to GOMAXPROCS workers; batches are
// written in input order.
const (
	batchLines = 2048
	batchBytes = 256 << 10
)

type batch struct {
	seq   int
	data  []byte // the lines, back to back
	ends  []int  // end offset of each line in data
	trunc []int  // bytes dropped from each line (over maxScoreLine)
	out   []byte
}

// stream scores every line of r, writing results in order.
func (s *scorer) stream(ctx context.Context, r io.Reader) error {
	workers := min(max(runtime.GOMAXPROCS(0), 1), 8)
	work := make(chan *batch, workers)
	done := make(chan *batch, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				start := 0
				for i, end := range b.ends {
					b.out = s.format(b.out, b.data[start:end], b.trunc[i])
					start = end
				}
				done <- b
			}
		}()
	}
	readErr := make(chan error, 1)
	go func() {
		readErr <- s.read(ctx, r, work)
		close(work)
		wg.Wait()
		close(done)
	}()
	// write in order
	pending := map[int]*batch{}
	next := 0
	var werr error
	for b := range done {
		pending[b.seq] = b
		for {
			nb, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if werr == nil {
				if _, err := s.w.Write(nb.out); err != nil {
					werr = fmt.Errorf("%w: %v", errWrite, err)
				}
			}
		}
	}
	if err := <-readErr; err != nil {
		return err
	}
	return werr
}

// read splits r into batches of lines.
func (s *scorer) read(ctx context.Context, r io.Reader, work chan<- *batch) error {
	br := bufio.NewReaderSize(r, 1<<16)
	seq := 0
	b := &batch{}
	flush := func() {
		if len(b.ends) > 0 {
			work <- b
			seq++
			b = &batch{seq: seq}
		}
	}
	defer flush()
	for n := 0; ; n++ {
		if n&0xfff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		line, err := br.ReadSlice('\n')
		truncated := 0
		b.data = append(b.data, line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = br.ReadSlice('\n')
			keep := min(max(maxScoreLine-(len(b.data)-lastEnd(b)), 0), len(line))
			b.data = append(b.data, line[:keep]...)
			truncated += len(line) - keep
		}
		if len(b.data) > lastEnd(b) {
			b.ends = append(b.ends, len(b.data))
			b.trunc = append(b.trunc, truncated)
		}
		if len(b.ends) >= batchLines || len(b.data) >= batchBytes {
			flush()
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func lastEnd(b *batch) int {
	if len(b.ends) == 0 {
		return 0
	}
	return b.ends[len(b.ends)-1]
}

// format appends the output line for one input line (none for blank lines
// and comments).
func (s *scorer) format(w []byte, raw []byte, truncated int) []byte {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 || b[0] == '#' {
		return w
	}
	// The string aliases the batch only for the duration of this call:
	// neither the score nor the reason keeps it.
	in := unsafe.String(&b[0], len(b))
	var res dga.Result
	if truncated > 0 {
		res = dga.Result{Skip: true, Reason: fmt.Sprintf("invalid: line of %d bytes (echoed truncated to %d)", len(b)+truncated, len(b))}
	} else {
		res = s.m.Score(in)
	}
	if printableASCII(b) {
		w = append(w, b...)
	} else {
		w = append(w, schema.EscapeDisplay(in)...)
	}
	w = append(w, '\t')
	switch {
	case res.Skip:
		w = append(w, "-\tskip\t"...)
		// skip reasons may quote the input
		w = append(w, schema.EscapeDisplay(res.Reason)...)
	default:
		w = appendScore(w, res.Score)
		if res.Score >= s.thr {
			w = append(w, "\tdga\t"...)
		} else {
			w = append(w, "\tbenign\t"...)
		}
		w = append(w, res.Reason...) // constant texts of the model
	}
	return append(w, '\n')
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
