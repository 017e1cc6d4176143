package dga

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxhunt/fluxhunt/internal/testenv"
	"github.com/fluxhunt/fluxhunt/schema"
	"golang.org/x/net/publicsuffix"
)

var splitCases = []string{
	"google.com", "www.bbc.co.uk", "d111111abcdef8.cloudfront.net", "abc.duckdns.org",
	"bucket.s3.amazonaws.com", "ec2-54-1-2-3.compute-1.amazonaws.com", "foo.github.io",
	"a.b.c.kawasaki.jp", "city.kawasaki.jp", "www.ck", "foo.www.ck", "x.y.unknowntld",
	"example.bazar", "r3---sn-abc.googlevideo.com", "e1234.a.akamaiedge.net", "com",
	"co.uk", "blogspot.com", "foo.blogspot.com", "xn--80ak6aa92e.com", "test.xn--p1ai",
	"a.b.appspot.com", "foo.bar.compute.amazonaws.com", "12.example.mooo.com",
}

// TestSplitMatchesSchema checks the allocation-free suffix split against the
// shared normaliser (golang.org/x/net/publicsuffix).
func TestSplitMatchesSchema(t *testing.T) {
	for _, c := range splitCases {
		checkSplit(t, c)
	}
}

func checkSplit(t *testing.T, name string) {
	t.Helper()
	n, err := schema.NormalizeName(name)
	if err != nil {
		return
	}
	p, skip := split(n.ASCII)
	if skip == reasonSingleLabel || skip == reasonArpa {
		return
	}
	ps, icann := publicsuffix.PublicSuffix(n.ASCII)
	got, gotICANN := embeddedPSL().publicSuffix(n.ASCII)
	if got != ps || gotICANN != icann {
		t.Errorf("%s: public suffix %q icann=%v, x/net says %q icann=%v", name, got, gotICANN, ps, icann)
	}
	if h, hICANN := pslPublicSuffix(embeddedPSLTable(), n.ASCII); h != got || hICANN != gotICANN {
		t.Errorf("%s: hashed table says %q icann=%v, map %q icann=%v", name, h, hICANN, got, gotICANN)
	}
	// the schema's split, with dynamic-DNS domains made suffixes the same way
	q, _ := fromSchema(n)
	if p.suffix != q.suffix || p.icann != q.icann || p.private != q.private || p.ddns != q.ddns {
		t.Errorf("%s: split %q/%q/%v/%v, schema %q/%q/%v/%v", name, p.suffix, p.icann, p.private, p.ddns, q.suffix, q.icann, q.private, q.ddns)
	}
	if p.siteLabel() != p.findSiteLabel() || q.siteLabel() != q.findSiteLabel() {
		t.Errorf("%s: cached site label %q/%q, computed %q/%q", name, p.siteLabel(), q.siteLabel(), p.findSiteLabel(), q.findSiteLabel())
	}
	if skip == "" && !q.ddns && p.siteLabel() != n.SiteLabel() {
		t.Errorf("%s: site label %q, schema %q", name, p.siteLabel(), n.SiteLabel())
	}
}

// TestSplitMatchesSchemaShared runs the same check over every benign and DGA
// name of ../shared. The embedded list may miss a rule that only the newer
// x/net list has (a handful of names); more than 0.1% disagreeing fails.
func TestSplitMatchesSchemaShared(t *testing.T) {
	shared := testenv.Shared(t)
	names := sharedNames(t, shared)
	var bad []string
	for _, name := range names {
		n, err := schema.NormalizeName(name)
		if err != nil {
			continue
		}
		p, skip := split(n.ASCII)
		if skip == reasonSingleLabel || skip == reasonArpa || looksIP(n.ASCII) {
			continue
		}
		q, _ := fromSchema(n)
		if p.suffix != q.suffix || p.icann != q.icann || p.private != q.private {
			bad = append(bad, name+" ("+p.suffix+" vs "+n.Suffix+")")
		}
	}
	t.Logf("%d of %d names split differently from the shared normaliser: %.20q", len(bad), len(names), bad)
	if len(bad)*1000 > len(names) {
		t.Errorf("too many disagreements: %d of %d", len(bad), len(names))
	}
}

// sharedNames reads every benign and DGA name of ../shared.
func sharedNames(t *testing.T, shared string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(shared, "data", "dga", "*", "*.txt"))
	files = append(files, filepath.Join(shared, "data", "benign", "alexa_top100k_2013.txt"))
	var names []string
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if l := strings.TrimSpace(sc.Text()); l != "" {
				names = append(names, l)
			}
		}
		f.Close()
	}
	if len(names) < 1000 {
		t.Fatalf("only %d names under %s", len(names), shared)
	}
	return names
}

func TestFastCanonical(t *testing.T) {
	for _, in := range []string{"example.com", "example.com.", "Example.com", "a..b", ".a", "a.", "..",
		"xn--80ak6aa92e.com", "axn--b.com", "a-b_c.d-e", "x" + strings.Repeat("a", 63) + ".com",
		strings.Repeat("a", 63) + ".com", strings.Repeat("a.", 127) + "com", "a*b.com", "*.a.com",
		"1.2.3.4", "a.-b.com", "-", "_", "ünï.com"} {
		fc, ok := fastCanonical(in)
		c, err := schema.CanonicalName(in)
		if ok && (err != nil || c != fc) {
			t.Errorf("fastCanonical(%q) = %q, normaliser %q, %v", in, fc, c, err)
		}
	}
}

func TestDynamicDNSAndTLDClass(t *testing.T) {
	tests := []struct {
		name, suffix, label string
		ddns                bool
		class               int
	}{
		{"x7fq2kd.dynserv.com", "dynserv.com", "x7fq2kd", true, tldKnown},
		{"a.b.yi.org", "yi.org", "b", true, tldKnown},
		{"abc.duckdns.org", "duckdns.org", "abc", true, tldKnown}, // on the PSL already
		{"dynserv.com", "com", "dynserv", false, tldKnown},        // the provider itself
		{"www.example.com", "com", "example", false, tldKnown},
		{"fileserver.corp", "corp", "fileserver", false, tldInternal},
		{"onhytoli.bazar", "bazar", "onhytoli", false, tldUnknown},
		{"google.con", "con", "google", false, tldUnknown},
	}
	for _, tc := range tests {
		p, skip := parseName(tc.name)
		if skip != "" {
			t.Fatalf("%s: skipped: %s", tc.name, skip)
		}
		if p.suffix != tc.suffix || p.siteLabel() != tc.label || p.ddns != tc.ddns {
			t.Errorf("%s: suffix %q label %q ddns %v, want %q %q %v", tc.name, p.suffix, p.siteLabel(), p.ddns, tc.suffix, tc.label, tc.ddns)
		}
		if c := tldClass(p.icann); c != tc.class {
			t.Errorf("%s: TLD class %d, want %d", tc.name, c, tc.class)
		}
		n, err := schema.NormalizeName(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		if q, _ := fromSchema(n); q.suffix != p.suffix || q.ddns != p.ddns {
			t.Errorf("%s: ScoreName path splits %q ddns %v, Score path %q %v", tc.name, q.suffix, q.ddns, p.suffix, p.ddns)
		}
		var f [numFeatures]float64
		Default().features(p.siteLabel(), p.icann, p.ddns, &f)
		if (f[fDDNS] == 1) != tc.ddns || (f[fTLDInternal] == 1) != (tc.class == tldInternal) || (f[fTLDUnknown] == 1) != (tc.class == tldUnknown) {
			t.Errorf("%s: features ddns=%v internal=%v unknown=%v", tc.name, f[fDDNS], f[fTLDInternal], f[fTLDUnknown])
		}
	}
}

// TestPSLTableMatchesMap: the hashed table walk gives the map walk's answer
// for every rule of the list, under one and two more labels, and for every
// rule's parent chain (wildcards, exceptions, unknown top-level names).
func TestPSLTableMatchesMap(t *testing.T) {
	m, h := embeddedPSL(), embeddedPSLTable()
	n := 0
	for k := range m {
		for _, name := range []string{k, "zz9." + k, "a.zz9." + k, "www.a.zz9." + k, k + ".zz-unknown"} {
			want, wantICANN := m.publicSuffix(name)
			got, gotICANN := pslPublicSuffix(h, name)
			if got != want || gotICANN != wantICANN {
				t.Fatalf("%s: table %q icann=%v, map %q icann=%v", name, got, gotICANN, want, wantICANN)
			}
			n++
		}
		if v, ok := h.tab.get(k); !ok || v != m[k] {
			t.Fatalf("table[%q] = %v, %v; map %v", k, v, ok, m[k])
		}
	}
	if _, ok := h.tab.get("zz-not-a-suffix"); ok {
		t.Fatal("table finds a name it does not hold")
	}
	if n < 10000 {
		t.Fatalf("only %d names checked", n)
	}
}
