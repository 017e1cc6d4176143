package dga

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/fluxhunt/fluxhunt/schema"
)

func TestTrie(t *testing.T) {
	tr := newTrie([]string{"face", "book", "facebook", "fac", "Upper", "x-y", "books"})
	for w, want := range map[string]bool{
		"face": true, "book": true, "facebook": true, "fac": true, "books": true,
		"fa": false, "faceb": false, "upper": false, "x-y": false, "": false, "bookss": false,
	} {
		if got := tr.contains(w); got != want {
			t.Errorf("contains(%q) = %v, want %v", w, got, want)
		}
	}
	if got := strings.Join(tr.segmentWords("facebookzz"), ","); got != "facebook" {
		t.Errorf("segmentWords = %q", got)
	}
}

func TestSegment(t *testing.T) {
	m := Default()
	cases := []struct {
		label          string
		covered, words int
	}{
		{"reachingmetal", 13, 2},
		{"abuseautomacircumvention", 0, 0}, // checked loosely below
		{"xkqzvbn", 0, 0},
		{"a1b2", 0, 0},
	}
	for _, c := range cases {
		cov, n, _, _, _, _, _, _ := m.segment(c.label)
		switch c.label {
		case "abuseautomacircumvention":
			if cov < 18 || n < 2 {
				t.Errorf("segment(%q): covered %d in %d words, want most letters in >= 2 words", c.label, cov, n)
			}
		default:
			if cov != c.covered || n != c.words {
				t.Errorf("segment(%q) = %d letters in %d words, want %d in %d", c.label, cov, n, c.covered, c.words)
			}
		}
	}
}

// embeddedFile decodes the embedded model file.
func embeddedFile(t *testing.T) *File {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(embedded))
	if err != nil {
		t.Fatal(err)
	}
	var f File
	if err := json.NewDecoder(zr).Decode(&f); err != nil {
		t.Fatal(err)
	}
	return &f
}

// A model of an older trainer names a prefix of FeatureNames: it loads, and
// one that names more features than this build knows does not.
func TestLoadFeaturePrefix(t *testing.T) {
	var buf bytes.Buffer
	f := embeddedFile(t)
	f.Features = FeatureNames[:numFeatures-1]
	for i := range f.Feat {
		f.Feat[i] %= uint8(numFeatures - 1)
	}
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(&buf); err != nil {
		t.Errorf("load a model of %d features: %v", numFeatures-1, err)
	}
	f.Feat[0] = uint8(numFeatures - 1)
	buf.Reset()
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(&buf); err == nil {
		t.Error("loaded a model splitting on a feature it does not name")
	}
	f.Features = append(append([]string(nil), FeatureNames[:]...), "future")
	buf.Reset()
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(&buf); err == nil {
		t.Error("loaded a model naming more features than FeatureNames")
	}
}

func TestScoreSkips(t *testing.T) {
	m := Default()
	long := strings.Repeat("a", 70*1024) + ".com"
	cases := []struct{ in, reason string }{
		{"", "empty"},
		{"   \t ", "empty"},
		{"192.0.2.1", "IP"},
		{"2001:db8::1", "IP"},
		{"[2001:db8::1]", "IP"},
		{"localhost", "single label"},
		{"com", "single label"},
		{"4.3.2.1.in-addr.arpa", "arpa"},
		{"1.0.0.0.ip6.arpa.", "arpa"},
		{"co.uk", "public suffix"},
		{"exa mple.com", "invalid"},
		{"foo\x00bar.com", "invalid"},
		{"\xff\xfe.com", "invalid"},
		{"a..b.com", "invalid"},
		{long, "invalid"},
		{strings.Repeat("a", 64) + ".com", "invalid"},
		{"*.example.com", "invalid"},
	}
	for _, c := range cases {
		r := m.Score(c.in)
		if !r.Skip || !strings.Contains(r.Reason, c.reason) {
			t.Errorf("Score(%.40q) = %+v, want skip with reason containing %q", c.in, r, c.reason)
		}
		if r.Score != 0 {
			t.Errorf("Score(%.40q): skipped with score %v", c.in, r.Score)
		}
	}
}

func TestBenignTraps(t *testing.T) {
	m := Default()
	cases := []struct{ in, reason string }{
		{"d1a2b3c4d5e6f7.cloudfront.net", "platform"},
		{"d3k81ch9hvuctc.cloudfront.net", "platform"},
		{"8f14e45fceea167a5a36dedd4bea2543.s3.amazonaws.com", "platform"},
		{"ec2-54-210-33-12.compute-1.amazonaws.com", "platform"},
		{"ip-10-0-1-17.ec2.internal.compute.amazonaws.com", "platform"},
		{"r4---sn-5hne6nsk.googlevideo.com", "platform"},
		{"e12345.a.akamaiedge.net", "platform"},
		{"a1234.dscb.akamai.net", "platform"},
		{"0a1b2c3d4e5f60718293a4b5c6d7e8f9.sophosxl.net", "security vendor"},
		{"3a7bd3e2360a3d29eea436fcfb7e44c735d117c4.avqs.mcafee.com", "security vendor"},
		{"2.0.0.127.zen.spamhaus.org", "security vendor"},
		{"xn--80ak6aa92e.com", "punycode"},
	}
	for _, c := range cases {
		r := m.Score(c.in)
		if r.Skip || r.Score >= m.Threshold() || !strings.Contains(r.Reason, c.reason) {
			t.Errorf("Score(%q) = %+v, want a low score with reason containing %q", c.in, r, c.reason)
		}
	}
	// dynamic DNS customer labels are scored, not excused
	if r := m.Score("xkqzvbnmwqtrpl.duckdns.org"); r.Score < m.Threshold() {
		t.Errorf("random label under duckdns.org scored %+v, want a DGA score", r)
	}
}

func TestScoreExamples(t *testing.T) {
	m := Default()
	benign := []string{"google.com", "www.wikipedia.org", "facebook.com", "mail.yahoo.co.jp",
		"stackoverflow.com", "bbc.co.uk", "github.com", "nytimes.com", "amazon.de", "weather.com"}
	for _, n := range benign {
		if r := m.Score(n); r.Skip || r.Score >= m.Threshold() {
			t.Errorf("Score(%q) = %+v, want benign", n, r)
		}
	}
	dga := []string{"xjkqzvbnmwqtp.biz", "a17dyctgyeyh24ptdrmrgxo61gukzmra47f22.com",
		"100mn4oadrs0smxmxdzssd1bp.net", "4141a1f416b03ffc4695e86cbff346d3.tk", "qxvhjtkwzmrpbn.info"}
	for _, n := range dga {
		if r := m.Score(n); r.Skip || r.Score < m.Threshold() {
			t.Errorf("Score(%q) = %+v, want dga", n, r)
		}
	}
}

func TestScoreNameAgrees(t *testing.T) {
	m := Default()
	for _, in := range append(append([]string{}, benchNames...), "WWW.Example.COM.", "xn--80ak6aa92e.com", "10.0.0.1", "localhost") {
		r := m.Score(in)
		n, err := schema.NormalizeName(in)
		if err != nil {
			if !r.Skip {
				t.Errorf("%q: normaliser rejects it (%v) but Score does not", in, err)
			}
			continue
		}
		s, ok := m.ScoreName(n)
		if ok == r.Skip || s != r.Score {
			t.Errorf("%q: ScoreName = %v, %v; Score = %+v", in, s, ok, r)
		}
	}
}

func TestScoreDoesNotAllocate(t *testing.T) {
	m := Default()
	allocs := testing.AllocsPerRun(200, func() {
		for _, n := range benchNames {
			m.Score(n)
		}
	})
	if allocs != 0 {
		t.Errorf("Score allocates %v times per %d names", allocs, len(benchNames))
	}
}

func TestModelRoundTrip(t *testing.T) {
	m := Default()
	if !strings.HasPrefix(m.Version(), "dga-") {
		t.Errorf("version %q", m.Version())
	}
	if th := m.Threshold(); th <= 0.5 || th >= 1 {
		t.Errorf("threshold %v outside (0.5, 1)", th)
	}
	if _, err := Load(bytes.NewReader([]byte("not gzip"))); err == nil {
		t.Error("Load accepted garbage")
	}
	for _, n := range benchNames {
		s := m.Score(n).Score
		if math.IsNaN(s) || s < 0 || s > 1 {
			t.Errorf("Score(%q) = %v", n, s)
		}
	}
}
