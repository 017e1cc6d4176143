package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fluxhunt/fluxhunt/connector/zeek"
	"github.com/fluxhunt/fluxhunt/detect/nxdomain"
	"github.com/fluxhunt/fluxhunt/enrich/asn"
	"github.com/fluxhunt/fluxhunt/lab/dnslab"
	"github.com/fluxhunt/fluxhunt/lab/scenario"
	"github.com/fluxhunt/fluxhunt/schema"
)

func runCmd(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	rc := dispatch(context.Background(), &env{args: args, stdin: strings.NewReader(""), stdout: &out, stderr: &errb})
	return rc, out.String(), errb.String()
}

func smallDay(t testing.TB) *scenario.Day {
	t.Helper()
	day, err := scenario.Generate(scenario.Config{Seed: 7, Hosts: 60, Browsing: 100, Duration: 6 * time.Hour,
		Start:      time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC),
		Infections: []scenario.Infection{{Family: "necurs", Loud: true, Hosts: 2}, {Family: "lcg", Hosts: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	return day
}

func writeFile(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func decodeDetections(t testing.TB, out string) []schema.Detection {
	t.Helper()
	var ds []schema.Detection
	dec := json.NewDecoder(strings.NewReader(out))
	for {
		var d schema.Detection
		if err := dec.Decode(&d); err == io.EOF {
			return ds
		} else if err != nil {
			t.Fatalf("stdout is not JSON lines of detections: %v", err)
		}
		ds = append(ds, d)
	}
}

func TestScanFormats(t *testing.T) {
	day := smallDay(t)
	var tsv, rows bytes.Buffer
	if err := day.WriteZeekTSV(&tsv); err != nil {
		t.Fatal(err)
	}
	if err := scenario.WriteJSONLines(&rows, day.DNSRows(time.Minute)); err != nil {
		t.Fatal(err)
	}
	infected := day.Truth.Infected
	for _, c := range []struct {
		name string
		file string
		args []string
	}{
		{"zeek tsv", writeFile(t, "dns.log", tsv.Bytes()), nil},
		{"zeek tsv gzip", writeFile(t, "dns.log.gz", gz(tsv.Bytes())), []string{"--format", "zeek"}},
		{"rows", writeFile(t, "rows.json", rows.Bytes()), []string{"--format", "rows"}},
		{"rows gzip auto", writeFile(t, "rows.json.gz", gz(rows.Bytes())), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"scan", "--internal-suffix", day.Config.Suffix}, c.args...)
			rc, out, stderr := runCmd(t, append(args, c.file)...)
			if rc != exitOK {
				t.Fatalf("rc %d: %s", rc, stderr)
			}
			ds := decodeDetections(t, out)
			flagged := map[string]bool{}
			types := map[string]int{}
			for _, d := range ds {
				flagged[d.Src] = true
				types[d.DetectionType]++
				if d.ModelVersion == "" {
					t.Errorf("detection without model_version")
				}
			}
			for h, fam := range infected {
				if !flagged[h] {
					t.Errorf("%s bot %s (loud %v) not found", fam, h, day.Truth.Loud[h])
				}
			}
			for h := range flagged {
				if _, ok := infected[h]; !ok {
					t.Errorf("%s flagged (%s)", h, day.Truth.Roles[h])
				}
			}
			if types[schema.TypeDGA] == 0 || types[schema.TypeNXDomainStorm] == 0 {
				t.Errorf("detection types %v", types)
			}
			if !strings.Contains(stderr, " 0 bad lines") || !strings.Contains(stderr, fmt.Sprintf("detections (%d dga, %d nxdomain_storm)", types[schema.TypeDGA], types[schema.TypeNXDomainStorm])) {
				t.Errorf("summary: %s", stderr)
			}
		})
	}
}

func TestScanBrokenInput(t *testing.T) {
	day := smallDay(t)
	var tsv bytes.Buffer
	day.WriteZeekTSV(&tsv)
	lines := strings.SplitAfter(tsv.String(), "\n")
	// line numbers are 1-based; the header has 8 lines
	lines[20] = "1764150000.1\tCx\t10.9.9.9\n"                                // wrong field count
	lines[30] = strings.Replace(lines[30], "\t53\tudp", "\t53\tudp", 1)       // untouched
	lines[40] = strings.Replace(lines[40], "\tC_INTERNET", "\tC_INTERNET", 1) // untouched
	parts := strings.Split(lines[50], "\t")
	parts[9] = `bad\q.example.com`
	lines[50] = strings.Join(parts, "\t") // bad escape in query
	parts = strings.Split(lines[60], "\t")
	parts[9] = "a..b.example.com"
	lines[60] = strings.Join(parts, "\t") // invalid name
	broken := strings.Join(lines, "")
	// truncated gzip: cut the stream in the middle
	z := gz([]byte(broken))
	cut := writeFile(t, "cut.log.gz", z[:len(z)/2])
	full := writeFile(t, "broken.log", []byte(broken))
	rc, _, stderr := runCmd(t, "scan", "--progress", "off", full, cut, filepath.Join(t.TempDir(), "missing.log"))
	if rc != exitFail {
		t.Errorf("rc %d, want 1 for the missing file", rc)
	}
	for _, want := range []string{
		"broken.log:21: 3 fields, the header says 24",
		"broken.log:51: field query: bad escape",
		"broken.log:61: field query: invalid domain name",
		"cut.log.gz:21: 3 fields",
		"cut.log.gz:51: field query: bad escape",
		"missing.log: no such file",
		"3 files (1 unreadable)",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if rc, _, stderr := runCmd(t, "scan", "--progress", "off", full); rc != exitOK || !strings.Contains(stderr, fmt.Sprintf("%d rows, 3 bad lines", len(day.Events)-3)) {
		t.Errorf("broken file alone: rc %d, %s", rc, stderr)
	}
	if !strings.Contains(stderr, "input ends: unexpected EOF") {
		t.Errorf("truncated gzip not reported:\n%s", stderr)
	}
	// the broken plain file was read to its end: rows = lines - header - 2 bad - trailer
	r, err := zeek.NewReader(strings.NewReader(broken), "x", zeek.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err == nil {
			n++
		}
	}
	if n != len(day.Events)-3 {
		t.Errorf("read %d rows, want %d", n, len(day.Events)-3)
	}
}

func TestScanUsage(t *testing.T) {
	for _, args := range [][]string{
		{"scan"},
		{"scan", "--format", "csv", "x"},
		{"scan", "--since", "yesterday", "x"},
		{"scan", "--probe", "--interval", "-1s", "x"},
		{"scan", "--threshold", "1.5", "x"},
		{"scan", "--allowlist", "/nonexistent/allow.txt", "x"},
	} {
		if rc, _, stderr := runCmd(t, args...); rc != exitConfig || !strings.Contains(stderr, "fluxhunt scan") {
			t.Errorf("%v: rc %d, stderr %q", args, rc, stderr)
		}
	}
	bad := writeFile(t, "allow.txt", []byte("ok.example.com\nhost not/an/addr\n"))
	if rc, _, stderr := runCmd(t, "scan", "--allowlist", bad, "x"); rc != exitConfig || !strings.Contains(stderr, "allow.txt:2:") {
		t.Errorf("bad allowlist: rc %d, %s", rc, stderr)
	}
}

func TestScanSinceUntilAndAllowlist(t *testing.T) {
	day := smallDay(t)
	var tsv bytes.Buffer
	day.WriteZeekTSV(&tsv)
	f := writeFile(t, "dns.log", tsv.Bytes())
	// every loud bot allowlisted: nothing left
	var al strings.Builder
	for h := range day.Truth.Infected {
		fmt.Fprintf(&al, "host %s\n", h)
	}
	af := writeFile(t, "allow.txt", []byte(al.String()))
	rc, out, stderr := runCmd(t, "scan", "--allowlist", af, "--internal-suffix", day.Config.Suffix, f)
	if rc != exitOK || len(decodeDetections(t, out)) != 0 {
		t.Errorf("allowlisted hosts still flagged: rc %d out %s err %s", rc, out, stderr)
	}
	// a window before anything happened
	rc, out, stderr = runCmd(t, "scan", "--until", "2026-11-26T08:00:00Z", f)
	if rc != exitOK || len(decodeDetections(t, out)) != 0 || !strings.Contains(stderr, fmt.Sprintf("%d outside", len(day.Events))) {
		t.Errorf("--until: rc %d, %s", rc, stderr)
	}
}

// progress: forced on, it draws a bar with rate and ETA.
func TestScanProgress(t *testing.T) {
	day := smallDay(t)
	var tsv bytes.Buffer
	day.WriteZeekTSV(&tsv)
	f := writeFile(t, "dns.log", tsv.Bytes())
	var errb bytes.Buffer
	p := &progress{w: &errb, on: true, name: f, size: int64(tsv.Len()), start: time.Now().Add(-time.Second)}
	p.update(int64(tsv.Len()/2), 1000)
	if s := errb.String(); !strings.Contains(s, "50%") || !strings.Contains(s, "lines/s ETA ") {
		t.Errorf("progress line %q", s)
	}
	rc, _, _ := runCmd(t, "scan", "--progress", "on", f)
	if rc != exitOK {
		t.Errorf("rc %d", rc)
	}
}

var benchOnce sync.Once
var benchTSV []byte
var benchLines int

func benchInput(b *testing.B) ([]byte, int) {
	benchOnce.Do(func() {
		day, err := scenario.Generate(scenario.Config{Seed: 11, Hosts: 400})
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		day.WriteZeekTSV(&buf)
		benchTSV, benchLines = buf.Bytes(), bytes.Count(buf.Bytes(), []byte("\n"))
	})
	return benchTSV, benchLines
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchScan reports lines/s of wall-clock time and lines per CPU-second of
// the process (all threads, GC included): on a shared machine the second is
// the fairer figure.
func benchScan(b *testing.B, in []byte, lines int) {
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		o := &scanOptions{progress: "off"}
		det, err := nxdomain.New(nxdomain.Config{InternalSuffixes: []string{"corp.example.com"}}, scanScorer(), nil)
		if err != nil {
			b.Fatal(err)
		}
		var sum scanSummary
		p := &progress{w: io.Discard}
		if err := scanOne(context.Background(), bytes.NewReader(in), "bench", o, det, func([]schema.Detection) {}, &sum, p); err != nil {
			b.Fatal(err)
		}
		if sum.bad != 0 || sum.rows == 0 {
			b.Fatalf("bad %d rows %d", sum.bad, sum.rows)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(lines)*float64(b.N)/(cpuTime()-cpu0).Seconds(), "lines/cpu-s")
}

// BenchmarkScanZeek: reader and detector over a 400-host scenario day
// (~250k lines), plain and gzipped.
func BenchmarkScanZeek(b *testing.B) {
	in, lines := benchInput(b)
	b.Run("plain", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		benchScan(b, in, lines)
	})
	z := gz(in)
	b.Run("gzip", func(b *testing.B) {
		b.SetBytes(int64(len(z)))
		benchScan(b, z, lines)
	})
}

// TestScanMemoryBound: the detector's heap grows with hosts, not lines.
func TestScanMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	heap := func(lines int) uint64 {
		det, _ := nxdomain.New(nxdomain.Config{}, nil, nil)
		base := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
		n, _ := schema.NormalizeName("x.example.com")
		for i := 0; i < lines; i++ {
			q := n
			rc := schema.RCodeNoError
			if i%5 == 0 {
				q, _ = schema.NormalizeName(fmt.Sprintf("n%d.example%d.com", i, i%97))
				rc = schema.RCodeNXDomain
			}
			det.Observe(schema.DNSRow{Time: base.Add(time.Duration(i) * 100 * time.Millisecond), Src: fmt.Sprintf("10.0.%d.%d", i%1000/250, i%250),
				Query: q, RecordType: "A", ReplyCode: rc, Count: 1, TTL: -1})
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		runtime.KeepAlive(det)
		return ms.HeapAlloc
	}
	small, big := heap(100_000), heap(800_000)
	t.Logf("heap after 100k lines %d KiB, after 800k lines %d KiB (1000 hosts)", small>>10, big>>10)
	if big > small*3/2+(4<<20) {
		t.Errorf("heap grew with lines: %d -> %d", small, big)
	}
}

// TestScanProbe: hosts of a scenario day look up the lab's fast-flux and
// CDN domains; scan --probe re-resolves them at the loopback lab server and
// reports the fast flux alone.
func TestScanProbe(t *testing.T) {
	w, s := startDNSLab(t, 3)
	var flux, cdn scenario.FluxDomain
	for _, d := range w.Domains() {
		fd := scenario.FluxDomain{Name: d.Name, Addrs: d.Pool, TTL: int(d.TTL)}
		if d.Kind == dnslab.KindFastFlux && flux.Name == "" {
			flux = fd
		}
		if d.Kind == dnslab.KindCDN && cdn.Name == "" {
			cdn = fd
		}
	}
	day, err := scenario.Generate(scenario.Config{Seed: 5, Hosts: 30, Browsing: 10, Duration: 6 * time.Hour,
		Start: time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC), Infections: []scenario.Infection{},
		Flux: []scenario.FluxDomain{flux, cdn}, FluxContacts: 1})
	if err != nil {
		t.Fatal(err)
	}
	var tsv bytes.Buffer
	day.WriteZeekTSV(&tsv)
	f := writeFile(t, "dns.log", tsv.Bytes())
	asnFile := filepath.Join(t.TempDir(), "lab-asn.csv.gz")
	if err := os.WriteFile(asnFile, asn.EmbeddedCSV(), 0o644); err != nil {
		t.Fatal(err)
	}
	environ := []string{"FLUXHUNT_DNS__ALLOW_PRIVATE_NS=true", "FLUXHUNT_DNS__AUTHORITATIVE_PORT=" + strconv.Itoa(int(s.Addr().Port())), "FLUXHUNT_STATE_DIR=" + t.TempDir()}
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rc := dispatch(ctx, &env{args: []string{"scan", "--probe", "--resolver", s.Addr().String(), "--asn-db", asnFile, "--interval", "20ms", "--internal-suffix", day.Config.Suffix, f},
		stdin: strings.NewReader(""), stdout: &out, stderr: &errb, environ: environ})
	if rc != exitOK {
		t.Fatalf("rc %d: %s", rc, errb.String())
	}
	var ff []string
	for _, d := range decodeDetections(t, out.String()) {
		if d.DetectionType == schema.TypeFastFlux {
			ff = append(ff, d.Domain)
		}
	}
	if len(ff) != 1 || ff[0] != flux.Name {
		t.Errorf("fast_flux detections %v, want only %s (cdn %s); stderr %s", ff, flux.Name, cdn.Name, errb.String())
	}
	if !strings.Contains(errb.String(), "1 fast_flux)") {
		t.Errorf("summary: %s", errb.String())
	}
}
