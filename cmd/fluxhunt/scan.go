package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/connector/zeek"
	"github.com/fluxhunt/fluxhunt/detect/allowlist"
	"github.com/fluxhunt/fluxhunt/detect/dga"
	"github.com/fluxhunt/fluxhunt/detect/nxdomain"
	"github.com/fluxhunt/fluxhunt/schema"
)

// scanScorer is the DGA scorer `fluxhunt scan` uses: the embedded model.
// With a nil scorer scan finds NXDOMAIN storms only.
func scanScorer() nxdomain.NameScorer { return dga.Default() }

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// scanOptions are the parsed flags of `fluxhunt scan`.
type scanOptions struct {
	format    zeek.Format
	zeekOnly  bool
	since     time.Time
	until     time.Time
	progress  string // auto | on | off
	files     []string
	detectCfg nxdomain.Config
	allow     *allowlist.List
	scorer    nxdomain.NameScorer
	probe     bool
	cfg       *config.Config // loaded when --config or --probe
	interval  time.Duration  // --interval for probes
}

func cmdScan(ctx context.Context, e *env) int {
	fs := newFlagSet(e, "scan", "[--format auto|zeek|rows] [--since T] [--until T] [--probe] [--config F] [--allowlist F] FILE...")
	format := fs.String("format", "auto", "input format: auto, zeek (TSV or JSON), zeek-tsv, zeek-json, rows")
	since := fs.String("since", "", "skip rows before T (RFC 3339 or epoch seconds)")
	until := fs.String("until", "", "skip rows at or after T (RFC 3339 or epoch seconds)")
	probe := fs.Bool("probe", false, "also re-resolve DGA names that resolved and report fast_flux")
	cfgFile := fs.String("config", "", "config file: detect.*, allowlist_file and dns.internal_suffixes apply")
	allowFile := fs.String("allowlist", "", "allowlist file (overrides allowlist_file)")
	threshold := fs.Float64("threshold", 0, "DGA score threshold (0: detect.dga_threshold, else the model's)")
	progress := fs.String("progress", "auto", "progress on stderr: auto (when stderr is a terminal), on, off")
	var internal, resolvers, asnDBs stringList
	fs.Var(&internal, "internal-suffix", "the organisation's DNS suffix (repeatable; adds to dns.internal_suffixes)")
	fs.Var(&resolvers, "resolver", "with --probe: resolver `ADDR` (repeatable; default dns.resolvers)")
	fs.Var(&asnDBs, "asn-db", "with --probe: ASN database `FILE` (repeatable; default asn.db)")
	interval := fs.Duration("interval", 0, "with --probe: time between probes of a domain (default: the TTL, at least probe.min_interval)")
	if rc := parseFlags(fs, e.args); rc >= 0 {
		return rc
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(e.stderr, "fluxhunt scan: "+format+"\n", a...)
		return exitConfig
	}
	var o scanOptions
	var err error
	if o.format, o.zeekOnly, err = zeek.ParseFormat(*format); err != nil {
		return usage("--format: %v", err)
	}
	if o.since, err = parseScanTime(*since); err != nil {
		return usage("--since: %v", err)
	}
	if o.until, err = parseScanTime(*until); err != nil {
		return usage("--until: %v", err)
	}
	switch *progress {
	case "auto", "on", "off":
		o.progress = *progress
	default:
		return usage("--progress %q: want auto, on or off", *progress)
	}
	if *interval < 0 {
		return usage("--interval %s: want a positive duration", *interval)
	}
	o.probe, o.interval = *probe, *interval
	if *threshold < 0 || *threshold >= 1 {
		return usage("--threshold %v: want 0 up to below 1", *threshold)
	}
	o.files = fs.Args()
	if len(o.files) == 0 {
		return usage("no FILE given (use - for standard input)")
	}
	log := newLogger(e.stderr, "warn", "text")
	if *cfgFile != "" || o.probe {
		ov := map[string]string{}
		if len(resolvers) > 0 {
			ov["dns.resolvers"] = resolvers.String()
		}
		if len(asnDBs) > 0 {
			ov["asn.db"] = asnDBs.String()
		}
		cfg := loadConfig(e, *cfgFile, ov, log)
		if cfg == nil {
			return exitConfig
		}
		o.cfg = cfg
		for _, w := range cfg.Detect.Windows {
			o.detectCfg.Windows = append(o.detectCfg.Windows, w.D())
		}
		o.detectCfg.Threshold = cfg.Detect.DGAThreshold
		o.detectCfg.InternalSuffixes = append(o.detectCfg.InternalSuffixes, cfg.DNS.InternalSuffixes...)
		if *allowFile == "" {
			*allowFile = cfg.AllowlistFile
		}
	}
	o.detectCfg.InternalSuffixes = append(o.detectCfg.InternalSuffixes, internal...)
	if *threshold > 0 {
		o.detectCfg.Threshold = *threshold
	}
	if *allowFile != "" {
		l, err := allowlist.Load(*allowFile)
		if l == nil {
			return usage("%v", err)
		}
		if err != nil {
			return usage("%v", err)
		}
		o.allow = l
	}
	o.scorer = scanScorer()
	return runScan(ctx, e, &o)
}

// parseScanTime reads RFC 3339 or epoch seconds; empty is the zero time.
func parseScanTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && f < 1e11 {
		return time.Unix(int64(f), 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2026-11-26T00:00:00Z) nor epoch seconds", s)
}

// scanSummary counts one scan.
type scanSummary struct {
	files, unreadable  int
	lines              int64
	rows, bad, skipped int64
	outside            int64
	detections         int64
	byType             map[string]int64
	hosts              map[string]bool
	flux               *fluxTracker // with --probe
}

func runScan(ctx context.Context, e *env, o *scanOptions) int {
	det, err := nxdomain.New(o.detectCfg, o.scorer, o.allow)
	if err != nil {
		fmt.Fprintf(e.stderr, "fluxhunt scan: %v\n", err)
		return exitConfig
	}
	if o.scorer == nil {
		fmt.Fprintln(e.stderr, "fluxhunt scan: no DGA model in this build: reporting nxdomain_storm only")
	}
	out := bufio.NewWriterSize(e.stdout, 64<<10)
	enc := json.NewEncoder(out)
	sum := scanSummary{byType: map[string]int64{}, hosts: map[string]bool{}}
	var resolved []string
	if o.probe {
		sum.flux = newFluxTracker()
	}
	start := time.Now()
	emit := func(ds []schema.Detection) {
		for i := range ds {
			if err := enc.Encode(&ds[i]); err != nil {
				fmt.Fprintf(e.stderr, "fluxhunt scan: write: %v\n", err)
			}
			sum.detections++
			sum.byType[ds[i].DetectionType]++
			if ds[i].Src != "" {
				sum.hosts[ds[i].Src] = true
			}
			if ds[i].DetectionType == schema.TypeDGA && ds[i].Domain != "" {
				resolved = append(resolved, ds[i].Domain)
			}
		}
	}
	rc := exitOK
	for _, name := range o.files {
		if ctx.Err() != nil {
			break
		}
		sum.files++
		var r io.Reader
		var f *os.File
		var size int64 = -1
		if name == "-" {
			r = e.stdin
		} else {
			var err error
			if f, err = os.Open(name); err != nil {
				fmt.Fprintf(e.stderr, "fluxhunt scan: %v\n", err)
				sum.unreadable++
				rc = exitFail
				continue
			}
			if st, err := f.Stat(); err == nil {
				size = st.Size()
			}
			r = f
		}
		prog := newProgress(e, o.progress, name, size)
		err := scanOne(ctx, r, name, o, det, emit, &sum, prog)
		prog.done()
		if f != nil {
			f.Close()
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "fluxhunt scan: %v\n", err)
			sum.unreadable++
			rc = exitFail
		}
	}
	if o.probe && ctx.Err() == nil {
		cands := sum.flux.candidates(resolved)
		fmt.Fprintf(e.stderr, "fluxhunt scan: probing %d fast-flux candidates\n", len(cands))
		ff, err := probeCandidates(ctx, e, o.cfg, o.interval, cands)
		if err != nil {
			fmt.Fprintf(e.stderr, "fluxhunt scan: --probe: %v\n", err)
			rc = exitFail
		}
		emit(ff)
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(e.stderr, "fluxhunt scan: write: %v\n", err)
		rc = exitFail
	}
	el := time.Since(start)
	ffs := ""
	if o.probe {
		ffs = fmt.Sprintf(", %d fast_flux", sum.byType[schema.TypeFastFlux])
	}
	fmt.Fprintf(e.stderr, "fluxhunt scan: %d files (%d unreadable), %d lines, %d rows, %d bad lines, %d skipped, %d outside --since/--until, %d detections (%d dga, %d nxdomain_storm%s) from %d hosts, %d hosts tracked, %.1fs (%.0f lines/s)\n",
		sum.files, sum.unreadable, sum.lines, sum.rows, sum.bad, sum.skipped, sum.outside, sum.detections,
		sum.byType[schema.TypeDGA], sum.byType[schema.TypeNXDomainStorm], ffs, len(sum.hosts), det.Hosts(), el.Seconds(), float64(sum.lines)/max(el.Seconds(), 1e-9))
	return rc
}

// scanOne reads one input to its end through the detector. Bad lines are
// reported on stderr by number; only a failure to start reading is an
// error. The reader runs in its own goroutine, a batch of rows ahead of the
// detector, so parsing and detection use two cores; everything written to
// stderr is written here, in input order.
func scanOne(ctx context.Context, r io.Reader, name string, o *scanOptions, det *nxdomain.Detector,
	emit func([]schema.Detection), sum *scanSummary, prog *progress) error {
	counted := &atomicCounter{r: r}
	in, stop := gunzipAhead(counted)
	defer stop()
	// the reader splits lines; names are normalised here, on the consumer's
	// side, which has the spare time
	zr, err := zeek.NewReader(in, name, zeek.Options{Format: o.format, ZeekOnly: o.zeekOnly, RawNames: true})
	if err != nil {
		return err
	}
	type item struct {
		row  schema.DNSRow
		err  error
		line int
	}
	type batch struct {
		items       []item
		bytes, line int64
	}
	const batchSize = 512
	full := make(chan *batch, 8)
	free := make(chan *batch, 10)
	for i := 0; i < cap(free); i++ {
		free <- &batch{items: make([]item, 0, batchSize)}
	}
	var readErr error
	go func() {
		defer close(full)
		for {
			if ctx.Err() != nil {
				readErr = fmt.Errorf("%s: interrupted at line %d: %w", name, zr.Line(), ctx.Err())
				return
			}
			b := <-free
			b.items = b.items[:0]
			eof := false
			for len(b.items) < batchSize {
				row, err := zr.Next()
				if errors.Is(err, io.EOF) {
					eof = true
					break
				}
				b.items = append(b.items, item{row, err, zr.Line()})
			}
			b.bytes, b.line = counted.n.Load(), int64(zr.Line())
			full <- b
			if eof {
				return
			}
		}
	}()
	names := zeek.NewNameCache()
	var nameErrs int64
	for b := range full {
		prog.update(b.bytes, b.line)
		for i := range b.items {
			it := &b.items[i]
			if it.err != nil {
				prog.clear()
				fmt.Fprintf(prog.w, "fluxhunt scan: %v\n", it.err)
				continue
			}
			row := &it.row
			if row.Query.Suffix == "" { // raw: normalise
				n, err := names.Normalize(row.Query.ASCII)
				if err != nil {
					prog.clear()
					fmt.Fprintf(prog.w, "fluxhunt scan: %s:%d: field query: %v\n", name, it.line, err)
					nameErrs++
					continue
				}
				row.Query = n
			}
			if (!o.since.IsZero() && row.Time.Before(o.since)) || (!o.until.IsZero() && !row.Time.Before(o.until)) {
				sum.outside++
				continue
			}
			if sum.flux != nil {
				sum.flux.observe(row)
			}
			if ds := det.Observe(*row); len(ds) > 0 {
				emit(ds)
			}
		}
		free <- b
	}
	// the reader goroutine has finished (full is closed): its counters are
	// safe to read
	rows, bad, skipped := zr.Counts()
	sum.lines += int64(zr.Line())
	sum.rows += rows - nameErrs
	sum.bad += bad + nameErrs
	sum.skipped += skipped
	return readErr
}

// progress draws a one-line progress bar with rate and ETA on stderr.
type progress struct {
	w     io.Writer
	on    bool
	name  string
	size  int64
	start time.Time
	last  time.Time
	drawn bool
}

func newProgress(e *env, mode, name string, size int64) *progress {
	p := &progress{w: e.stderr, name: name, size: size, start: time.Now()}
	switch mode {
	case "on":
		p.on = true
	case "auto":
		if f, ok := e.stderr.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				p.on = true
			}
		}
	}
	return p
}

func (p *progress) update(bytes, lines int64) {
	if !p.on {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 250*time.Millisecond {
		return
	}
	p.last = now
	el := now.Sub(p.start).Seconds()
	rate := float64(lines) / max(el, 1e-9)
	if p.size > 0 {
		frac := min(float64(bytes)/float64(p.size), 1)
		eta := "?"
		if frac > 0 {
			eta = (time.Duration(el*(1-frac)/frac) * time.Second).Round(time.Second).String()
		}
		const width = 30
		n := int(frac * width)
		fmt.Fprintf(p.w, "\r%s [%s%s] %3.0f%% %d lines %.0f lines/s ETA %s ", p.name, strings.Repeat("#", n), strings.Repeat(".", width-n), frac*100, lines, rate, eta)
	} else {
		fmt.Fprintf(p.w, "\r%s %d lines %.0f lines/s ", p.name, lines, rate)
	}
	p.drawn = true
}

func (p *progress) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

func (p *progress) done() { p.clear() }

// atomicCounter counts the bytes read from the file (by whichever
// goroutine reads), for progress against the file size.
type atomicCounter struct {
	r io.Reader
	n atomic.Int64
}

func (c *atomicCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// gunzipAhead decompresses a gzip input in its own goroutine, a pipe ahead
// of the parser (a third core's worth of work when there is one); plain
// input is returned as it is. stop ends the goroutine.
func gunzipAhead(r io.Reader) (io.Reader, func()) {
	br := bufio.NewReaderSize(r, 256<<10)
	magic, err := br.Peek(2)
	if err != nil || magic[0] != 0x1f || magic[1] != 0x8b {
		return br, func() {}
	}
	pr, pw := io.Pipe()
	go func() {
		gz, err := gzip.NewReader(br)
		if err != nil {
			pw.CloseWithError(fmt.Errorf("gzip: %w", err))
			return
		}
		gz.Multistream(true)
		_, err = io.CopyBuffer(pw, gz, make([]byte, 256<<10))
		pw.CloseWithError(err) // nil: EOF for the reader
	}()
	return pr, func() { pr.Close() }
}
