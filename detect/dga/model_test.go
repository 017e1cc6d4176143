package dga

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"math"
	"math/rand/v2"
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

// TestForestFeatureMajor: the feature-major evaluator gives marginRef's
// value bit for bit, on feature vectors at, just above and just below every
// threshold of the embedded forest, and on random ones.
func TestForestFeatureMajor(t *testing.T) {
	fo := &Default().forest
	if fo.fm == nil {
		t.Fatal("the embedded forest did not compile feature-major")
	}
	r := rand.New(rand.NewPCG(1, 2))
	var f [numFeatures]float64
	check := func() {
		t.Helper()
		if got, want := fo.margin(&f), fo.marginRef(&f); got != want {
			t.Fatalf("margin %v, marginRef %v, features %v", got, want, f)
		}
	}
	for i := range fo.feat {
		for range 20 {
			for j := range f {
				// mostly other thresholds of the forest, so that every bin is used
				k := r.IntN(len(fo.feat))
				f[j] = fo.thr[k]
				if int(fo.feat[k]) != j {
					f[j] = r.NormFloat64() * 5
				}
			}
			j := fo.feat[i]
			for _, x := range []float64{fo.thr[i], math.Nextafter(fo.thr[i], math.Inf(1)), math.Nextafter(fo.thr[i], math.Inf(-1))} {
				if math.IsInf(x, 0) {
					continue // features are finite (a split at MaxFloat64 never goes right)
				}
				f[j] = x
				check()
			}
		}
	}
	var classes [4]int
	// forests of other shapes: 1-64 trees, depths 1-8, random splits
	// (the last shapes split on a few features at up to 64 thresholds each:
	// every size class of fmForest is used)
	for _, shape := range [][4]int{{1, 1, numFeatures, 9}, {3, 2, numFeatures, 9}, {7, 8, numFeatures, 9},
		{64, 6, numFeatures, 9}, {33, 5, numFeatures, 9}, {40, 8, 3, 30}, {64, 8, 4, 64}, {20, 6, 2, 14}} {
		nt, d, nf, nth := shape[0], shape[1], shape[2], shape[3]
		g := &forest{depth: d, base: r.NormFloat64()}
		for range nt * d {
			g.feat = append(g.feat, uint8(r.IntN(nf)))
			g.thr = append(g.thr, float64(r.IntN(nth)-nth/2)/2)
		}
		for range nt << d {
			g.leaf = append(g.leaf, r.NormFloat64())
		}
		g.compile()
		if g.fm == nil {
			t.Fatalf("%d trees of depth %d not compiled", nt, d)
		}
		classes[0] += len(g.fm.f1) + len(g.fm.f2) + len(g.fm.f4) + len(g.fm.f8)
		classes[1] += len(g.fm.f16)
		classes[2] += len(g.fm.f32)
		classes[3] += len(g.fm.f64)
		for range 2000 {
			for j := range f {
				f[j] = float64(r.IntN(nth+4)-nth/2-2)/2 + float64(r.IntN(3)-1)*0.25
			}
			if got, want := g.margin(&f), g.marginRef(&f); got != want {
				t.Fatalf("%dx%d: margin %v, marginRef %v", nt, d, got, want)
			}
		}
	}
	for i, c := range classes {
		if c == 0 {
			t.Errorf("size class %d of fmForest not tested", i)
		}
	}
	big := &forest{depth: 6, feat: make([]uint8, 65*6), thr: make([]float64, 65*6), leaf: make([]float64, 65*64)}
	big.compile()
	if big.fm != nil {
		t.Fatal("65 trees compiled feature-major")
	}
}
