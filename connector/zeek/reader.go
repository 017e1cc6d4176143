// Package zeek reads DNS logs for the offline scan: Zeek dns.log as TSV (with
// its #-header) or as Zeek JSON, and JSON lines of the DNS row schema (what a
// Splunk search returns), plain or gzip, the format detected from the
// content. A bad line is reported by its number and reading goes on.
package zeek

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fluxhunt/fluxhunt/schema"
)

// Format of the input.
type Format int

const (
	FormatAuto     Format = iota // detect from the content
	FormatZeekTSV                // Zeek ASCII log with #fields header
	FormatZeekJSON               // Zeek JSON log (one object a line)
	FormatRows                   // JSON lines of the DNS row schema (schema.Fields)
)

func (f Format) String() string {
	switch f {
	case FormatZeekTSV:
		return "zeek-tsv"
	case FormatZeekJSON:
		return "zeek-json"
	case FormatRows:
		return "rows"
	}
	return "auto"
}

// ParseFormat reads the --format flag: auto, zeek (TSV or JSON, detected),
// zeek-tsv, zeek-json, rows.
func ParseFormat(s string) (Format, bool, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return FormatAuto, false, nil
	case "zeek":
		return FormatAuto, true, nil
	case "zeek-tsv", "tsv":
		return FormatZeekTSV, false, nil
	case "zeek-json":
		return FormatZeekJSON, false, nil
	case "rows":
		return FormatRows, false, nil
	}
	return FormatAuto, false, fmt.Errorf("unknown format %q (want auto, zeek, zeek-tsv, zeek-json or rows)", schema.EscapeDisplay(s))
}

// MaxLineBytes bounds one input line; a longer line is a bad line.
const MaxLineBytes = 1 << 20

// LineError is one unusable line.
type LineError struct {
	File   string
	Line   int
	Reason string
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason) }

// Reader yields DNS rows from one input. It is not safe for concurrent use.
type Reader struct {
	name      string
	counter   *countingReader
	br        *bufio.Reader
	gz        *gzip.Reader
	format    Format
	zeekOnly  bool
	rawNames  bool
	line      int
	skipped   int64
	bad       int64
	rows      int64
	eof       bool
	tsv       tsvState
	names     *nameCache
	srcs      map[string]string
	lastSrc   string
	lastDest  []string
	dests     map[string][]string
	fieldsBuf [][]byte
	lineBuf   []byte
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Options for NewReader.
type Options struct {
	Format Format
	// ZeekOnly refuses the rows format when detecting (--format zeek).
	ZeekOnly bool
	// RawNames leaves the query of Zeek lines as given (unescaped) in
	// Query.ASCII, every other Query field empty, for the caller to
	// normalise elsewhere (with a NameCache, on another goroutine). A name
	// that does not normalise is then the caller's bad line.
	RawNames bool
}

// NewReader opens r (plain or gzip, detected by its magic bytes). name is
// used in errors. The format is detected at the first line that is not blank
// unless opts.Format says.
func NewReader(r io.Reader, name string, opts Options) (*Reader, error) {
	cr := &countingReader{r: r}
	br := bufio.NewReaderSize(cr, 256<<10)
	rd := &Reader{name: name, counter: cr, br: br, format: opts.Format, zeekOnly: opts.ZeekOnly, rawNames: opts.RawNames,
		srcs: make(map[string]string), dests: make(map[string][]string)}
	if !opts.RawNames {
		rd.names = newNameCache(1 << 16)
	}
	magic, err := br.Peek(2)
	if err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: gzip: %w", name, err)
		}
		gz.Multistream(true)
		rd.gz = gz
		rd.br = bufio.NewReaderSize(gz, 256<<10)
	}
	rd.tsv.reset()
	return rd, nil
}

// Format is the format in use (FormatAuto until the first line decided it).
func (r *Reader) Format() Format { return r.format }

// Line is the number of the last line read.
func (r *Reader) Line() int { return r.line }

// InputBytes is how many bytes of the underlying (possibly compressed) input
// have been consumed, for progress against the file size.
func (r *Reader) InputBytes() int64 { return r.counter.n }

// Counts: rows returned, bad lines reported, lines skipped without error
// (Zeek lines with no query name).
func (r *Reader) Counts() (rows, bad, skipped int64) { return r.rows, r.bad, r.skipped }

// Next returns the next row. At the end it returns io.EOF. A *LineError says
// one line was unusable: report it and call Next again. Other errors (a read
// error, a truncated gzip stream) end the input: they are returned once as a
// *LineError naming the line reached, then io.EOF.
func (r *Reader) Next() (schema.DNSRow, error) {
	for {
		if r.eof {
			return schema.DNSRow{}, io.EOF
		}
		line, err := r.readLine()
		if err != nil {
			r.eof = true
			if errors.Is(err, io.EOF) {
				if len(line) == 0 {
					return schema.DNSRow{}, io.EOF
				}
			} else {
				r.bad++
				return schema.DNSRow{}, &LineError{File: r.name, Line: r.line + 1, Reason: "input ends: " + err.Error()}
			}
		}
		r.line++
		if len(line) > MaxLineBytes {
			r.bad++
			return schema.DNSRow{}, &LineError{File: r.name, Line: r.line, Reason: fmt.Sprintf("line longer than %d bytes", MaxLineBytes)}
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if r.format == FormatAuto {
			r.detect(line)
		}
		var row schema.DNSRow
		var ok bool
		switch r.format {
		case FormatZeekTSV:
			row, ok, err = r.parseTSV(line)
		case FormatZeekJSON:
			row, ok, err = r.parseZeekJSON(line)
		case FormatRows:
			row, ok, err = r.parseRow(line)
		}
		if err != nil {
			r.bad++
			return schema.DNSRow{}, &LineError{File: r.name, Line: r.line, Reason: err.Error()}
		}
		if !ok {
			continue
		}
		r.rows++
		return row, nil
	}
}

// readLine reads one line of any length (up to MaxLineBytes+1 kept).
func (r *Reader) readLine() ([]byte, error) {
	b, err := r.br.ReadSlice('\n')
	if err == nil || !errors.Is(err, bufio.ErrBufferFull) {
		return b, err
	}
	r.lineBuf = append(r.lineBuf[:0], b...)
	for {
		b, err = r.br.ReadSlice('\n')
		if len(r.lineBuf) <= MaxLineBytes {
			r.lineBuf = append(r.lineBuf, b...)
		}
		if err == nil || !errors.Is(err, bufio.ErrBufferFull) {
			return r.lineBuf, err
		}
	}
}

func (r *Reader) detect(line []byte) {
	switch {
	case line[0] == '#':
		r.format = FormatZeekTSV
	case line[0] == '{' && !r.zeekOnly && (bytes.Contains(line, []byte(`"_time"`)) || !bytes.Contains(line, []byte(`"ts"`))):
		r.format = FormatRows
	case line[0] == '{':
		r.format = FormatZeekJSON
	default:
		// TSV without a header: Zeek's default field order.
		r.format = FormatZeekTSV
	}
}

func (r *Reader) internSrc(b []byte) string {
	if string(b) == r.lastSrc {
		return r.lastSrc
	}
	if s, ok := r.srcs[string(b)]; ok {
		r.lastSrc = s
		return s
	}
	s := string(b)
	if len(r.srcs) >= 1<<16 {
		clear(r.srcs)
	}
	r.srcs[s] = s
	r.lastSrc = s
	return s
}

// destSlice gives a shared one-element slice for a resolver address. Rows
// must treat Dest as read-only.
func (r *Reader) destSlice(b []byte) []string {
	if len(r.lastDest) == 1 && string(b) == r.lastDest[0] {
		return r.lastDest
	}
	if d, ok := r.dests[string(b)]; ok {
		r.lastDest = d
		return d
	}
	d := []string{string(b)}
	if len(r.dests) >= 1024 {
		clear(r.dests)
	}
	r.dests[d[0]] = d
	r.lastDest = d
	return d
}

func (r *Reader) normName(b []byte) (schema.Name, error) {
	if r.rawNames {
		return schema.Name{ASCII: string(b)}, nil
	}
	return r.names.normalize(b)
}

// NameCache normalises names through a bounded cache (65,536 slots). Not
// safe for concurrent use.
type NameCache struct{ c *nameCache }

// NewNameCache makes a cache.
func NewNameCache() *NameCache { return &NameCache{c: newNameCache(1 << 16)} }

// Normalize is schema.NormalizeName, cached.
func (c *NameCache) Normalize(raw string) (schema.Name, error) {
	// maphash gives equal hashes for equal bytes and strings
	sl := &c.c.slots[maphash.String(c.c.seed, raw)&c.c.mask]
	if sl.raw != "" && sl.raw == raw {
		return sl.name, nil
	}
	n, err := schema.NormalizeName(raw)
	if err != nil {
		return n, err
	}
	sl.raw, sl.name = raw, n
	return n, nil
}

func (c *nameCache) normalize(b []byte) (schema.Name, error) {
	if n, ok := c.get(b); ok {
		return *n, nil
	}
	n, err := schema.NormalizeName(string(b))
	if err != nil {
		return n, err
	}
	c.put(n.ASCII, b, n)
	return n, nil
}

// nameCache maps raw query bytes to normalised names: a direct-mapped
// table (a miss overwrites the slot), so lookups cost one hash and one
// compare and its memory is fixed.
type nameCache struct {
	seed  maphash.Seed
	slots []nameSlot
	mask  uint64
}

type nameSlot struct {
	raw  string
	name schema.Name
}

func newNameCache(size int) *nameCache {
	n := 1
	for n < size {
		n <<= 1
	}
	return &nameCache{seed: maphash.MakeSeed(), slots: make([]nameSlot, n), mask: uint64(n - 1)}
}

func (c *nameCache) slot(b []byte) *nameSlot {
	return &c.slots[maphash.Bytes(c.seed, b)&c.mask]
}

func (c *nameCache) get(b []byte) (*schema.Name, bool) {
	s := c.slot(b)
	if s.raw != "" && s.raw == string(b) {
		return &s.name, true
	}
	return nil, false
}

func (c *nameCache) put(ascii string, raw []byte, n schema.Name) {
	s := c.slot(raw)
	if string(raw) == ascii {
		s.raw = ascii
	} else {
		s.raw = string(raw)
	}
	s.name = n
}

// parseZeekTime reads Zeek's ts: epoch seconds with a fraction, or RFC 3339
// (Zeek JSON with JSON::TS_ISO8601).
func parseZeekTime(b []byte) (time.Time, error) {
	// fast path: digits[.digits]
	var sec, frac int64
	var fracDigits int
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if i > 11 {
			break
		}
		sec = sec*10 + int64(b[i]-'0')
	}
	if i > 0 && i <= 11 {
		if i == len(b) {
			return time.Unix(sec, 0).UTC(), nil
		}
		if b[i] == '.' {
			j := i + 1
			for ; j < len(b) && b[j] >= '0' && b[j] <= '9'; j++ {
				if fracDigits < 9 {
					frac = frac*10 + int64(b[j]-'0')
					fracDigits++
				}
			}
			if j == len(b) && j > i+1 {
				for ; fracDigits < 9; fracDigits++ {
					frac *= 10
				}
				return time.Unix(sec, frac).UTC(), nil
			}
		}
	}
	s := string(b)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, fmt.Errorf("ts %q is not epoch seconds or RFC 3339", schema.EscapeDisplay(s))
	}
	s0, fr := math.Modf(f)
	return time.Unix(int64(s0), int64(fr*1e9)).UTC(), nil
}

func validUTF8(b []byte) bool { return utf8.Valid(b) }

// parseRow reads one JSON object shaped like schema.Fields.
func (r *Reader) parseRow(line []byte) (schema.DNSRow, bool, error) {
	var f schema.Fields
	if err := json.Unmarshal(line, &f); err != nil {
		return schema.DNSRow{}, false, fmt.Errorf("not a JSON object of DNS row fields: %v", err)
	}
	row, err := schema.ParseDNSRow(f)
	if err != nil {
		return row, false, err
	}
	row.Src = r.internSrc([]byte(row.Src))
	return row, true, nil
}
