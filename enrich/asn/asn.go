// Package asn maps IP addresses to autonomous systems from ip-location-db
// CSV files (plain or gzip, IPv4 and IPv6) and MaxMind ASN .mmdb files,
// held in compact sorted range tables: a lookup is a binary search with no
// allocation.
package asn

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
)

//go:embed data/lab-asn-ipv4.csv.gz
var embeddedCSV []byte

// Range is one address range and its AS.
type Range struct {
	First, Last netip.Addr
	ASN         uint32
}

type r4 struct {
	first, last uint32
	asn         uint32
}

type r6 struct {
	firstHi, firstLo uint64
	lastHi, lastLo   uint64
	asn              uint32
}

// Table is an immutable IP-to-AS table. The zero value and nil are empty
// tables.
type Table struct {
	v4    []r4
	v6    []r6
	names map[uint32]string
	// Skipped counts input rows that could not be read.
	Skipped int
	// Warnings holds the first few reasons rows were skipped, naming
	// file:line.
	Warnings []string
}

// Builder collects ranges from several sources into one Table.
type Builder struct {
	t Table
}

// NewBuilder starts an empty table.
func NewBuilder() *Builder { return &Builder{t: Table{names: map[uint32]string{}}} }

const maxWarnings = 10

func (b *Builder) warn(format string, args ...any) {
	b.t.Skipped++
	if len(b.t.Warnings) < maxWarnings {
		b.t.Warnings = append(b.t.Warnings, fmt.Sprintf(format, args...))
	}
}

// Add adds one range; first and last must be of the same family, first <= last.
func (b *Builder) Add(first, last netip.Addr, asn uint32, name string) error {
	first, last = first.Unmap(), last.Unmap()
	if first.Is4() != last.Is4() || last.Less(first) {
		return fmt.Errorf("asn: bad range %s-%s", first, last)
	}
	if name != "" {
		if _, ok := b.t.names[asn]; !ok {
			b.t.names[asn] = strings.Clone(name)
		}
	}
	if first.Is4() {
		b.t.v4 = append(b.t.v4, r4{u32(first), u32(last), asn})
		return nil
	}
	fh, fl := u128(first)
	lh, ll := u128(last)
	b.t.v6 = append(b.t.v6, r6{fh, fl, lh, ll, asn})
	return nil
}

// Table sorts the ranges and returns the table. The builder must not be
// used afterwards.
func (b *Builder) Table() *Table {
	t := &b.t
	slices.SortFunc(t.v4, func(a, c r4) int {
		switch {
		case a.first < c.first:
			return -1
		case a.first > c.first:
			return 1
		}
		return 0
	})
	slices.SortFunc(t.v6, func(a, c r6) int {
		switch {
		case a.firstHi < c.firstHi || (a.firstHi == c.firstHi && a.firstLo < c.firstLo):
			return -1
		case a.firstHi == c.firstHi && a.firstLo == c.firstLo:
			return 0
		}
		return 1
	})
	t.v4 = slices.Clip(t.v4)
	t.v6 = slices.Clip(t.v6)
	return t
}

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

func u128(a netip.Addr) (uint64, uint64) {
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

// Lookup returns the AS number of a, and false when no range holds it.
func (t *Table) Lookup(a netip.Addr) (uint32, bool) {
	if t == nil {
		return 0, false
	}
	a = a.Unmap()
	if a.Is4() {
		x := u32(a)
		v := t.v4
		// last range whose first <= x
		i := sort.Search(len(v), func(i int) bool { return v[i].first > x }) - 1
		if i >= 0 && x <= v[i].last {
			return v[i].asn, true
		}
		return 0, false
	}
	if !a.IsValid() {
		return 0, false
	}
	hi, lo := u128(a)
	v := t.v6
	i := sort.Search(len(v), func(i int) bool {
		return v[i].firstHi > hi || (v[i].firstHi == hi && v[i].firstLo > lo)
	}) - 1
	if i >= 0 && (hi < v[i].lastHi || (hi == v[i].lastHi && lo <= v[i].lastLo)) {
		return v[i].asn, true
	}
	return 0, false
}

// Name returns the AS organisation name, or "".
func (t *Table) Name(asn uint32) string {
	if t == nil {
		return ""
	}
	return t.names[asn]
}

// Len is the number of ranges.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return len(t.v4) + len(t.v6)
}

// RangesOf lists the ranges announced by asn, in address order.
func (t *Table) RangesOf(asn uint32) []Range {
	if t == nil {
		return nil
	}
	var out []Range
	for _, r := range t.v4 {
		if r.asn == asn {
			var f, l [4]byte
			binary.BigEndian.PutUint32(f[:], r.first)
			binary.BigEndian.PutUint32(l[:], r.last)
			out = append(out, Range{netip.AddrFrom4(f), netip.AddrFrom4(l), asn})
		}
	}
	for _, r := range t.v6 {
		if r.asn == asn {
			var f, l [16]byte
			binary.BigEndian.PutUint64(f[:8], r.firstHi)
			binary.BigEndian.PutUint64(f[8:], r.firstLo)
			binary.BigEndian.PutUint64(l[:8], r.lastHi)
			binary.BigEndian.PutUint64(l[8:], r.lastLo)
			out = append(out, Range{netip.AddrFrom16(f), netip.AddrFrom16(l), asn})
		}
	}
	return out
}

// Embedded returns the table of the small extract shipped in the binary
// (see ATTRIBUTION.md): the ranges the DNS lab uses plus a sample.
func Embedded() *Table {
	b := NewBuilder()
	if err := b.ReadCSV(bytes.NewReader(embeddedCSV), "embedded:lab-asn-ipv4.csv.gz"); err != nil {
		panic("asn: embedded extract unreadable: " + err.Error())
	}
	return b.Table()
}

// Load reads each file (ip-location-db CSV, plain or gzip, or MaxMind
// .mmdb, told apart by content) into one table.
func Load(paths ...string) (*Table, error) {
	b := NewBuilder()
	for _, p := range paths {
		if err := b.LoadFile(p); err != nil {
			return nil, err
		}
	}
	return b.Table(), nil
}

// LoadFile adds one file to the builder.
func (b *Builder) LoadFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("asn: load: %w", err)
	}
	if bytes.Contains(tail(data, 128*1024), mmdbMarker) {
		if err := b.ReadMMDB(data, path); err != nil {
			return err
		}
		return nil
	}
	return b.ReadCSV(bytes.NewReader(data), path)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// ReadCSV reads ip-location-db rows `first_ip,last_ip,asn,as_name` (gzip or
// plain). Unreadable rows are skipped and counted with a warning naming
// name:line; an unreadable stream is an error.
func (b *Builder) ReadCSV(r io.Reader, name string) error {
	br := bufio.NewReaderSize(r, 64*1024)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("asn: %s: gzip: %w", name, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64*1024)
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	good := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		if err := b.csvRow(s); err != nil {
			b.warn("%s:%d: %v", name, line, err)
			continue
		}
		good++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("asn: %s:%d: %w", name, line, err)
	}
	if good == 0 && line > 0 {
		return fmt.Errorf("asn: %s: no readable rows (want first_ip,last_ip,asn,as_name)", name)
	}
	return nil
}

func (b *Builder) csvRow(s string) error {
	f1, rest, ok1 := strings.Cut(s, ",")
	f2, rest, ok2 := strings.Cut(rest, ",")
	f3, f4, _ := strings.Cut(rest, ",")
	if !ok1 || !ok2 {
		return errors.New("want first_ip,last_ip,asn,as_name")
	}
	first, err := netip.ParseAddr(strings.TrimSpace(f1))
	if err != nil {
		return fmt.Errorf("first_ip: %w", err)
	}
	last, err := netip.ParseAddr(strings.TrimSpace(f2))
	if err != nil {
		return fmt.Errorf("last_ip: %w", err)
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(f3), "AS"), 10, 32)
	if err != nil {
		return fmt.Errorf("asn: not a number: %q", f3)
	}
	name := strings.TrimSpace(f4)
	if len(name) >= 2 && name[0] == '"' && name[len(name)-1] == '"' {
		name = strings.ReplaceAll(name[1:len(name)-1], `""`, `"`)
	}
	return b.Add(first, last, uint32(n), name)
}

// EmbeddedCSV returns the gzip CSV of the embedded extract (a copy), e.g.
// to hand to a process as an --asn-db file.
func EmbeddedCSV() []byte { return bytes.Clone(embeddedCSV) }
